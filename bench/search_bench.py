"""Search benchmark (not a test): query latency and reindex throughput on N products.

Against real PostgreSQL (database backend, the default) or Elasticsearch:

    scripts/services.sh
    .venv/bin/python bench/search_bench.py                       # 50k products, PostgreSQL
    .venv/bin/python bench/search_bench.py --products 10000 --queries 100
    .venv/bin/python bench/search_bench.py --backend elasticsearch --products 10000

It uses its own database (``ecommerce_search_bench``, created and migrated for the search app
only) and its own Elasticsearch alias (``bench_products``), so it touches nothing else.
Products are generated directly as product event payloads (seeded random: the same catalogue
every run), then:

1. reindex throughput: ``services.reindex`` (the command's code path) in batches of 500, docs/s;
2. query latency of ``GET /search/products`` (the view through DRF and the renderer, with a
   RequestFactory: no network, no middleware), p50/p95/p99 and the SQL queries per request, for
   three typical queries:
   - text: one or two catalogue words, 1 in 4 with a typo;
   - text + filters: a word plus category, price range, an attribute and inStock;
   - facets only: no text, a category (a category page's first load);
3. one consumer upsert (a PRODUCT_UPDATED) latency, p50/p95.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB_NAME", "ecommerce_search_bench")

NOUNS = (
    "monitor keyboard mouse laptop headphones speaker camera lamp chair desk table sofa shirt dress jacket "
    "trousers shoes boots sandals watch phone tablet charger cable backpack bottle mug kettle toaster blender "
    "router printer scanner microphone webcam drone guitar piano blanket pillow curtain rug mirror vase"
).split()
ADJECTIVES = (
    "wireless portable ergonomic compact premium classic modern vintage waterproof foldable smart silent "
    "adjustable lightweight heavy organic bamboo leather wooden steel curved ultrawide mechanical"
).split()
BRANDS = "acme globex initech umbrella hooli stark wayne tyrell soylent wonka".split()
COLORS = "black white red blue green grey beige navy yellow pink".split()
SIZES = "XS S M L XL".split()
MATERIALS = "cotton linen wool steel oak plastic glass".split()
CATEGORIES = [f"{n}s" for n in NOUNS[:30]]
DESCRIPTION_WORDS = (NOUNS + ADJECTIVES + "the a with for and of your every day great quality".split()) * 2


def setup_django(backend):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    for context in ("AUTH", "CATALOG", "ORDERS", "SEARCH"):
        os.environ.pop(f"{context}_DATABASE_URL", None)
    os.environ["SEARCH_BACKEND"] = backend
    os.environ.setdefault("ELASTICSEARCH_INDEX", "bench_products")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "events", verbosity=0)
    call_command("migrate", "search", verbosity=0)


def make_payload(rng, i):
    noun = rng.choice(NOUNS)
    name = f"{rng.choice(BRANDS).title()} {rng.choice(ADJECTIVES).title()} {noun.title()} {i}"
    slugs = rng.sample(CATEGORIES, rng.choice((1, 1, 2)))
    variants = []
    for _ in range(rng.randint(1, 4)):
        attributes = {"color": rng.choice(COLORS), "size": rng.choice(SIZES)}
        if rng.random() < 0.3:
            attributes["material"] = rng.choice(MATERIALS)
        variants.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "attributes": attributes,
                "price": f"{rng.uniform(5, 900):.2f}",
                "stockQuantity": rng.choice((0, 0, 1, 5, 20, 100)),
            }
        )
    created = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "sku": f"{noun[:3].upper()}-{i:06d}",
        "name": name,
        "description": " ".join(rng.choices(DESCRIPTION_WORDS, k=rng.randint(10, 40))),
        "isActive": rng.random() > 0.05,
        "createdAt": created.isoformat().replace("+00:00", "Z"),
        "updatedAt": created.isoformat().replace("+00:00", "Z"),
        "category_names": [s.title() for s in slugs],
        "category_slugs": slugs,
        "variants": variants,
        "variant_attributes_flat": sorted({f"{k}:{v}" for var in variants for k, v in var["attributes"].items()}),
        "images": [
            {"id": str(uuid.uuid4()), "imageUrl": f"/images/p{i}.jpg", "altText": name, "isPrimary": True, "order": 0}
        ],
    }


def batches(count, batch_size=500, seed=42):
    from apps.search.documents import from_payload

    rng = random.Random(seed)
    for start in range(0, count, batch_size):
        yield [from_payload(make_payload(rng, i)) for i in range(start, min(count, start + batch_size))]


def typo(rng, word):
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def query_sets(rng, n):
    text, filtered, facets = [], [], []
    for _ in range(n):
        words = [rng.choice(NOUNS)] + ([rng.choice(ADJECTIVES)] if rng.random() < 0.5 else [])
        if rng.random() < 0.25:
            words[0] = typo(rng, words[0])
        text.append({"q": " ".join(words)})
        low = rng.choice((0, 50, 100, 200))
        filtered.append(
            {
                "q": rng.choice(NOUNS),
                "category": rng.choice(CATEGORIES),
                "minPrice": str(low),
                "maxPrice": str(low + rng.choice((100, 300, 600))),
                "attributes[color][]": rng.sample(COLORS, 2),
                "inStock": "true",
                "sortBy": rng.choice(("_score", "price", "createdAt")),
            }
        )
        facets.append({"category": rng.choice(CATEGORIES), "limit": "24"})
    return {"text": text, "text+filters": filtered, "facets only": facets}


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def get(factory, view, params):
    """The search view through DRF and the orjson renderer (not the URL conf: other apps' URL
    modules do not have to import for this benchmark to run)."""
    response = view(factory.get("/search/products", params))
    response.render()
    return response


def run_queries(factory, view, params_list):
    import orjson
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, totals, query_counts = [], [], []
    for params in params_list:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = get(factory, view, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        totals.append(orjson.loads(response.content)["pagination"]["total"])
        query_counts.append(len(captured))
    return times, totals, query_counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200, help="per kind of query")
    parser.add_argument("--backend", choices=("database", "elasticsearch"), default="database")
    parser.add_argument("--skip-reindex", action="store_true", help="query what the last run indexed")
    args = parser.parse_args()
    setup_django(args.backend)

    from django.conf import settings
    from django.db import connection
    from django.test import RequestFactory

    from apps.search.api.views import ProductSearchView
    from apps.search.backends import get_backend
    from apps.search.services import index_product, reindex

    print(f"backend={args.backend} database={connection.vendor} products={args.products} queries/kind={args.queries}")
    if not args.skip_reindex:
        started = time.perf_counter()
        total = reindex(args.backend, batches=batches(args.products))
        elapsed = time.perf_counter() - started
        print(f"reindex: {total} documents in {elapsed:.1f} s = {total / elapsed:.0f} documents/s")
    print("status:", get_backend().status())

    factory, view = RequestFactory(), ProductSearchView.as_view()
    rng = random.Random(7)
    get(factory, view, {"q": "monitor"})  # warm up the connection
    print(f"{'query':<14}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean hits':>11}{'SQL/request':>13}")
    for kind, params_list in query_sets(rng, args.queries).items():
        times, totals, counts = run_queries(factory, view, params_list)
        print(
            f"{kind:<14}{percentile(times, 50):>9.1f}{percentile(times, 95):>9.1f}{percentile(times, 99):>9.1f}"
            f"{statistics.mean(totals):>11.0f}{max(counts) if args.backend == 'database' else 0:>13}"
        )

    # Consumer side: one PRODUCT_UPDATED applied (document, variants, categories, vector).
    rng = random.Random(42)
    payloads = [make_payload(rng, i) for i in range(min(args.products, 200))]
    times = []
    for payload in payloads:
        payload = {**payload, "updatedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        started = time.perf_counter()
        index_product(payload)
        times.append((time.perf_counter() - started) * 1000)
    print(f"upsert (consumer): p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms")
    if args.backend == "elasticsearch":
        print(f"alias: {settings.ELASTICSEARCH_INDEX}")


if __name__ == "__main__":
    main()
