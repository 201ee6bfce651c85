"""Events benchmark (not a test): relay throughput and commit → consumer-effect latency.

Against real PostgreSQL and the Kafka-protocol broker (Tansu):

    scripts/services.sh
    .venv/bin/python bench/events_bench.py            # defaults below
    .venv/bin/python bench/events_bench.py --rows 20000 --latency-events 1000 --rate 200

It uses its own database (``ecommerce_events_bench``, created and migrated for the events app
only) and its own topic prefix, so it touches nothing else. It prints:

1. relay throughput: events/s from committed outbox rows to broker acknowledgement (acks=all,
   idempotent producer), for batch sizes 100 and 1000;
2. end-to-end latency: from the commit of the change to the commit of the consumer's effect
   (``manage.py relay_outbox`` loop + ``consume_events`` loop running as threads), p50/p95/p99.
"""

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB_NAME", "ecommerce_events_bench")


def setup_django(prefix):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    for context in ("AUTH", "CATALOG", "ORDERS", "SEARCH"):
        os.environ.pop(f"{context}_DATABASE_URL", None)
    os.environ["EVENTS_TRANSPORT"] = "kafka"
    os.environ["EVENTS_TOPIC_PREFIX"] = prefix
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "events", verbosity=0)


def make_rows(count, topic):
    from apps.events.models import OutboxEvent

    payload = {
        "id": "",
        "sku": "SKU-000",
        "name": "Benchmark product with a realistic name",
        "description": "x" * 200,
        "isActive": True,
        "category_names": ["Shoes", "Running"],
        "variants": [{"id": str(uuid.uuid4()), "attributes": {"size": "42"}, "price": "19.90", "stockQuantity": 5}],
    }
    rows = (
        OutboxEvent(
            topic=topic,
            event_type="PRODUCT_UPDATED",
            aggregate_id=f"product-{n % 500}",
            payload={**payload, "id": f"product-{n % 500}"},
            source_service="bench",
        )
        for n in range(count)
    )
    OutboxEvent.objects.bulk_create(rows, batch_size=2000)


def vacuum():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE events_outboxevent")


def throughput(rows, batch_size):
    from apps.events import relay
    from apps.events.models import OutboxEvent

    OutboxEvent.objects.all().delete()
    vacuum()  # start each run from a clean table (in production autovacuum keeps it so)
    make_rows(rows, "bench_throughput")
    vacuum()
    publisher = relay.KafkaPublisher()
    started = time.perf_counter()
    published = 0
    while OutboxEvent.objects.filter(published_at__isnull=True).exists():
        published += relay.relay_pending(aliases=["default"], batch_size=batch_size, publisher=publisher)["default"]
    elapsed = time.perf_counter() - started
    return published, elapsed


def latency(events, rate):
    from django.db import close_old_connections, transaction

    from apps.events import relay
    from apps.events.consumer import run_consumer
    from apps.events.outbox import publish
    from apps.events.registry import consumer

    committed, effected = {}, {}

    @consumer(topic="bench_latency", group="bench", context="orders")
    def on_event(event):
        event_id = event.id
        transaction.on_commit(lambda: effected.setdefault(event_id, time.perf_counter()), using="default")

    stop = threading.Event()

    def relay_loop():
        try:
            relay.run_forever(stop)
        finally:
            close_old_connections()

    def consumer_loop():
        try:
            run_consumer("bench", stop)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=relay_loop), threading.Thread(target=consumer_loop)]
    for thread in threads:
        thread.start()

    def emit(key):
        with transaction.atomic(using="default"):
            row = publish("bench_latency", "THING_UPDATED", key, {"key": key}, using="default")
        committed[str(row.event_id)] = time.perf_counter()
        return str(row.event_id)

    warm = emit("warm-up")  # waits for the group join (a few seconds on Tansu)
    deadline = time.monotonic() + 60
    while warm not in effected and time.monotonic() < deadline:
        time.sleep(0.05)
    committed.pop(warm, None)
    effected.pop(warm, None)

    interval = 1.0 / rate
    started = time.perf_counter()
    for n in range(events):
        target = started + n * interval
        pause = target - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        emit(f"agg-{n % 50}")
    deadline = time.monotonic() + 60
    while len([e for e in committed if e in effected]) < events and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    samples = sorted((effected[e] - committed[e]) * 1000 for e in committed if e in effected)
    from apps.events.models import OutboxEvent

    relay_lag = sorted(
        (published - created).total_seconds() * 1000
        for created, published in OutboxEvent.objects.filter(topic="bench_latency", published_at__isnull=False)
        .exclude(aggregate_id="warm-up")
        .values_list("created_at", "published_at")
    )
    return samples, relay_lag


def pct(samples, p):
    return samples[min(len(samples) - 1, max(0, round(p / 100 * len(samples)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--latency-events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second for the latency run")
    args = parser.parse_args()
    prefix = f"bench{uuid.uuid4().hex[:8]}_"
    setup_django(prefix)
    from django.conf import settings

    print(f"database {DB_NAME}, broker {settings.KAFKA_BOOTSTRAP_SERVERS}, topic prefix {prefix}")
    from apps.events.relay import KafkaPublisher

    KafkaPublisher().producer.list_topics(timeout=10)  # connect before timing
    for batch in (100, 1000):
        published, elapsed = throughput(args.rows, batch)
        rate = published / elapsed
        print(f"relay throughput, batch {batch:>4}: {published} events in {elapsed:.2f} s = {rate:,.0f} events/s")
    samples, relay_lag = latency(args.latency_events, args.rate)
    if not samples:
        print("latency: no event reached the consumer")
        return 1
    print(
        f"end-to-end latency (commit -> consumer effect committed), {len(samples)}/{args.latency_events} events "
        f"at {args.rate:.0f}/s: p50 {pct(samples, 50):.0f} ms, p95 {pct(samples, 95):.0f} ms, "
        f"p99 {pct(samples, 99):.0f} ms, max {samples[-1]:.0f} ms, mean {statistics.mean(samples):.0f} ms"
    )
    print(
        f"  of which outbox row written -> broker acknowledged (relay): p50 {pct(relay_lag, 50):.0f} ms, "
        f"p95 {pct(relay_lag, 95):.0f} ms, p99 {pct(relay_lag, 99):.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
