"""Orders benchmark (not a test): guest checkouts per second on PostgreSQL, and the share of
409s on a hot variant.

    scripts/services.sh                       # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/orders_bench.py    # shared database (the monolith default)
    .venv/bin/python bench/orders_bench.py --split --threads 8 --mixed 1500 --hot-requests 400

It creates and migrates its own databases (``ecommerce_orders_bench`` and, with ``--split``, one
per context), seeds products through the catalogue's services, then drives ``POST /orders``
through Django's full request stack (``django.test.Client``: URL routing, DRF, JSON, the
exception handler) from ``--threads`` threads, each with its own database connection.
Events go to the outbox only (``EVENTS_TRANSPORT=kafka`` with no relay running: the request
path's cost, as in production where the relay is another process).

Phases:
1. mixed: each checkout has 1-3 lines from ``--products`` products with ample stock; 20% of
   them also take 1 unit of a hot variant (ample stock): row-lock contention, no 409 expected;
2. hot sale: every checkout takes 1 unit of a hot variant holding ``--hot-stock`` units:
   exactly ``--hot-stock`` orders succeed, the rest get 409; no stock is left and no order is
   missing its stock.

It prints checkouts/s, latency percentiles, status counts, the 409 share and the queries of one
checkout.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB_NAME", "ecommerce_orders_bench")
CONTEXTS = ("AUTH", "CATALOG", "ORDERS", "SEARCH")


def setup_django(split):
    import psycopg

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    names = {"DATABASE_URL": DB_NAME}
    for context in CONTEXTS:
        os.environ.pop(f"{context}_DATABASE_URL", None)
        if split:
            names[f"{context}_DATABASE_URL"] = f"{DB_NAME}_{context.lower()}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for var, name in names.items():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
            os.environ[var] = f"{PG}/{name}"
    os.environ["EVENTS_TRANSPORT"] = "kafka"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("DEBUG", "0")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from ecommerce.db import context_aliases

    for alias in context_aliases():
        call_command("migrate", database=alias, verbosity=0)


def seed(products, hot_stock):
    from apps.catalog.selectors import product_documents
    from apps.catalog.services import create_product

    def make(n, stock, price):
        product = create_product(
            {
                "sku": f"BENCH-{n}",
                "name": f"Bench product {n}",
                "description": "bench",
                "is_active": True,
                "category_ids": [],
                "variants": [{"attributes": {"size": "M"}, "price": Decimal(price), "initial_stock_quantity": stock}],
                "images": [{"image_url": f"https://cdn.example.com/{n}.png", "is_primary": True, "order": 0}],
            }
        )
        doc = next(product_documents([product.id]))[0]
        return {"productId": str(product.id), "variantId": doc["variants"][0]["id"]}

    catalogue = [make(n, 1_000_000, f"{5 + n % 90}.{n % 100:02d}") for n in range(products)]
    busy = make("busy", 1_000_000, "12.00")
    scarce = make("scarce", hot_stock, "99.00")
    return catalogue, busy, scarce


def body(lines, n):
    return {
        "items": [dict(line, quantity=q) for line, q in lines],
        "phone": "+33 6 12 34 56 78",
        "guestEmail": f"buyer{n}@example.com",
        "guestName": "Bench Buyer",
        "shippingAddress": {
            "country": "France",
            "firstName": "Bench",
            "lastName": "Buyer",
            "address": "1 rue de la Paix",
            "postalCode": "75002",
            "city": "Paris",
        },
        "paymentMethod": "CASH_ON_DELIVERY" if n % 2 else "CREDIT_CARD",
    }


def run(bodies, threads):
    """Posts every body from ``threads`` threads; returns (seconds, [(status, latency_s, tagged)])."""
    from django.db import connections
    from django.test import Client

    queue = list(enumerate(bodies))
    lock = threading.Lock()
    results = []
    barrier = threading.Barrier(threads + 1)

    def worker():
        client = Client()
        mine = []
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    break
                _, (payload, tag) = queue.pop()
            started = time.perf_counter()
            response = client.post("/orders", payload, content_type="application/json")
            mine.append((response.status_code, time.perf_counter() - started, tag))
        connections.close_all()
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - started, results


def report(name, seconds, results):
    statuses = Counter(status for status, _, _ in results)
    latencies = sorted(lat for _, lat, _ in results)
    created = statuses.get(201, 0)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    print(f"\n== {name}: {len(results)} requests in {seconds:.2f}s")
    print(f"   requests/s {len(results) / seconds:.1f}   orders/s {created / seconds:.1f}")
    mean = statistics.mean(latencies) * 1000
    print(f"   latency ms p50 {pct(50):.1f}  p95 {pct(95):.1f}  p99 {pct(99):.1f}  mean {mean:.1f}")
    print(f"   statuses {dict(sorted(statuses.items()))}")
    hot = [status for status, _, tag in results if tag]
    if hot:
        share = sum(1 for s in hot if s == 409) / len(hot)
        print(f"   hot-variant requests {len(hot)}: 409 share {share:.1%}")
    return statuses


def queries_per_checkout(catalogue):
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ecommerce.db import context_aliases

    contexts = [CaptureQueriesContext(connections[a]) for a in context_aliases()]
    for ctx in contexts:
        ctx.__enter__()
    response = Client().post(
        "/orders", body([(catalogue[0], 1), (catalogue[1], 2)], 0), content_type="application/json"
    )
    for ctx in contexts:
        ctx.__exit__(None, None, None)
    assert response.status_code == 201, response.content
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for ctx in contexts:
            for q in ctx.captured_queries:
                print("   ", q["sql"][:160])
    return sum(len(ctx.captured_queries) for ctx in contexts)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", action="store_true", help="one database per context (reservation + compensation)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--mixed", type=int, default=1000, help="checkouts in the mixed phase")
    parser.add_argument("--hot-requests", type=int, default=400)
    parser.add_argument("--hot-stock", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    random.seed(args.seed)

    setup_django(args.split)
    from apps.catalog.selectors import variant_snapshots
    from apps.orders.models import Order, OrderItem
    from apps.orders.services import shares_transaction

    print(
        f"shape: {'split (one database per context)' if args.split else 'shared (one database)'}; "
        f"one transaction for stock + order: {shares_transaction()}; threads {args.threads}"
    )
    catalogue, busy, scarce = seed(args.products, args.hot_stock)
    print(f"queries per 2-line checkout (all databases): {queries_per_checkout(catalogue)}")

    bodies = []
    for n in range(args.mixed):
        lines = [(line, random.randint(1, 3)) for line in random.sample(catalogue, random.randint(1, 3))]
        hot = random.random() < 0.2
        if hot:
            lines.append((busy, 1))
        bodies.append((body(lines, n), hot))
    seconds, results = run(bodies, args.threads)
    report("mixed: 1-3 lines, 20% also on a busy variant with ample stock", seconds, results)

    bodies = [(body([(scarce, 1)], n), True) for n in range(args.hot_requests)]
    seconds, results = run(bodies, args.threads)
    statuses = report(f"hot sale: {args.hot_requests} buyers, {args.hot_stock} units", seconds, results)
    left = variant_snapshots([scarce["variantId"]])[scarce["variantId"]].stock_quantity
    sold = sum(i.quantity for i in OrderItem.objects.filter(variant_id=scarce["variantId"]))
    print(f"   hot variant: stock left {left}, units in orders {sold}, 201s {statuses.get(201, 0)}")
    assert left == 0 and sold == args.hot_stock == statuses.get(201, 0), "stock and orders disagree"
    print(f"\ntotal orders: {Order.objects.count()}")


if __name__ == "__main__":
    main()
