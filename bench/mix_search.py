"""The k6 search customer's queries, in-process: latency, CPU and the answers (not a test).

Run with the bench environment (``*_DATABASE_URL`` of a copy of the bench databases):

    .venv/bin/python bench/mix_search.py --queries 300                # p50/p95 wall and CPU
    .venv/bin/python bench/mix_search.py --queries 300 --dump a.json  # ... and every answer
    .venv/bin/python bench/mix_search.py --compare a.json b.json      # same answers?

The words, categories and colours are picked as ``k6/shop.js`` ``setup()`` picks them (words of
the names of active products on sampled list pages, every category slug, the colours seen), and
the queries with ``searchOnce``'s odds, from a seeded generator: the same mix every run on the
same data. Each request goes through Django's whole stack (``django.test.Client``).
"""

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")


def vocabulary(client):
    words, colors = {}, {}
    first = client.get("/products?limit=100&page=1").json()
    pages = max(1, first["pagination"]["totalPages"])
    sample = dict.fromkeys([1, 2, 3, -(-pages // 4), -(-pages // 2), -(-3 * pages // 4), pages])
    for page in sample:
        body = first if page == 1 else client.get(f"/products?limit=100&page={page}").json()
        for product in body["data"]:
            if not product["isActive"]:
                continue
            for word in re.split(r"[^a-z]+", product["name"].lower()):
                if len(word) > 3:
                    words[word] = None
            for variant in product["variants"]:
                if (variant.get("attributes") or {}).get("color"):
                    colors[str(variant["attributes"]["color"])] = None
    slugs = [c["slug"] for c in client.get("/products/categories").json()]
    return list(words)[:200], slugs, list(colors)


def queries(client, count, seed):
    words, slugs, colors = vocabulary(client)
    rng = random.Random(seed)
    paths = []
    for _ in range(count):
        params = [("q", rng.choice(words)), ("limit", "24")]
        if rng.random() < 0.5:
            params.append(("category", rng.choice(slugs)))
        if rng.random() < 0.4:
            params += [("minPrice", "20"), ("maxPrice", "300")]
        if rng.random() < 0.3 and colors:
            params.append(("attributes[color][]", rng.choice(colors)))
        if rng.random() < 0.3:
            params.append(("inStock", "true"))
        if rng.random() < 0.2:
            params += [("sortBy", "price"), ("sortOrder", "asc")]
        paths.append("/search/products?" + urlencode(params))
    return paths


def database_cpu():
    """CPU seconds so far of the PostgreSQL backend serving the search context's connection, or
    None (another vendor, or the server's /proc out of reach): on a shared machine CPU time
    compares two versions better than latency."""
    from django.db import connections

    from ecommerce.db import alias_for

    connection = connections[alias_for("search")]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def compare(a_path, b_path):
    a, b = json.loads(Path(a_path).read_text()), json.loads(Path(b_path).read_text())
    differ = [path for path in a if a[path] != b.get(path)]
    missing = [path for path in b if path not in a]
    print(f"{len(a)} answers, {len(differ)} differ, {len(missing)} only in {b_path}")
    for path in differ[:10]:
        print("  differs:", path)
    return 1 if differ or missing else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dump", help="write {path: answer} as JSON here")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)

    import django

    django.setup()
    from django.test import Client

    client = Client()
    paths = queries(client, args.queries, args.seed)
    for path in paths[:20]:  # warm caches and connections
        client.get(path)
    wall, cpu, hits, answers = [], [], [], {}
    database_before = database_cpu()
    for path in paths:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        body = response.json()
        hits.append(body["pagination"]["total"])
        if args.dump:
            answers[path] = body
    print(
        f"{len(paths)} searches: wall p50 {statistics.median(wall):.1f} p95 {percentile(wall, 95):.1f} "
        f"mean {statistics.mean(wall):.1f} ms; Python CPU p50 {statistics.median(cpu):.1f} "
        f"mean {statistics.mean(cpu):.1f} ms; mean hits {statistics.mean(hits):.0f}"
    )
    database_after = database_cpu()
    if database_before is not None and database_after is not None:
        print(f"PostgreSQL CPU per search: {(database_after - database_before) * 1000 / len(paths):.1f} ms")
    if args.dump:
        Path(args.dump).write_text(json.dumps(answers, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
