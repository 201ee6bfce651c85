"""The relay: moves committed outbox rows to the broker.

One pass over one database (``relay_batch``):

1. In a transaction, claim up to ``batch_size`` due rows in id order: ``SELECT ... FOR UPDATE
   SKIP LOCKED`` on PostgreSQL, so concurrent relays take disjoint rows; on SQLite the
   transaction begins ``IMMEDIATE`` (see ``ecommerce/db.py``), a database-wide write lock, so
   relays simply take turns.
2. Hold back every claimed row that has an earlier unpublished row of the same aggregate outside
   the batch (failing and waiting for its backoff, or claimed by another relay): order per
   aggregate is kept across relays and retries.
3. Produce the rest (key = aggregate id, headers ``event-id`` and ``event-type``) and wait for
   every delivery report.
4. Mark published only the rows whose report said delivered; the others get ``attempts + 1``,
   ``last_error`` and ``next_attempt_at`` (exponential backoff). A later row of an aggregate whose
   earlier row failed in the same batch is not marked either: it is sent again after it, and
   consumers' idempotency absorbs the copy.

If the process dies between 3 and 4, the transaction rolls back and the rows are sent again
later: at-least-once, never lost.
"""

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from apps.events import heartbeat
from apps.events.models import OutboxEvent
from ecommerce.db import context_aliases

logger = logging.getLogger(__name__)


def _key(row):
    return (row.topic, row.aggregate_id)


def backoff_seconds(attempts):
    return min(2 ** max(attempts - 1, 0), settings.EVENTS_RELAY_BACKOFF_MAX_SECONDS)


class Claimed:
    """A claimed outbox row, read as plain values: the payload stays the database's JSON text and
    goes into the envelope as is (no decode/encode round trip, no model instance per row)."""

    __slots__ = (
        "pk",
        "event_id",
        "topic",
        "event_type",
        "aggregate_id",
        "payload_text",
        "source_service",
        "created_at",
        "attempts",
        "last_error",
        "next_attempt_at",
    )
    FIELDS = (
        "id",
        "event_id",
        "topic",
        "event_type",
        "aggregate_id",
        "payload_text",
        "source_service",
        "created_at",
        "attempts",
    )

    def __init__(self, values):
        for name, value in zip(self.__slots__, values, strict=False):
            setattr(self, name, value)

    @property
    def payload(self):
        return json.loads(self.payload_text)

    def envelope_bytes(self):
        dumps = json.dumps
        timestamp = self.created_at.isoformat().replace("+00:00", "Z")
        return (
            f'{{"id":"{self.event_id}","type":{dumps(self.event_type)},"payload":{self.payload_text},'
            f'"timestamp":"{timestamp}","sourceService":{dumps(self.source_service)}}}'
        ).encode()


def encode(row):
    if isinstance(row, Claimed):
        return row.envelope_bytes()
    return json.dumps(row.envelope(), separators=(",", ":"), default=str).encode()


class BrokerUnavailable(str):
    """A delivery error that says the broker was not reachable, not that the row is at fault:
    the row is due again on the relay's next pass instead of after its own backoff (each pass
    already waits up to ``KAFKA_DELIVERY_TIMEOUT_MS`` while the broker stays away), so the
    backlog goes out as soon as the broker answers."""


def _broker_side(err):
    from confluent_kafka import KafkaError

    transport_codes = {
        KafkaError._MSG_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._RESOLVE,
        KafkaError._FENCED,
        KafkaError.PRODUCER_FENCED,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    }
    return err.fatal() or err.retriable() or err.code() in transport_codes


class KafkaPublisher:
    """Sends rows with confluent-kafka and returns ``{row.pk: error or None}`` once all reported."""

    def __init__(self, bootstrap=None):
        from apps.events.kafka import get_producer

        self.bootstrap = bootstrap
        self.producer = get_producer(bootstrap)

    def send(self, rows):
        from confluent_kafka import KafkaException

        from apps.events.kafka import discard_producer, get_producer, wire_topic

        reports = {}
        topics = {}

        def report_for(pk):
            def on_delivery(err, _msg):
                if err is None:
                    reports[pk] = None
                else:
                    reports[pk] = BrokerUnavailable(err) if _broker_side(err) else str(err)

            return on_delivery

        for row in rows:
            while True:
                try:
                    if row.topic not in topics:
                        topics[row.topic] = wire_topic(row.topic)
                    self.producer.produce(
                        topics[row.topic],
                        key=row.aggregate_id.encode(),
                        value=encode(row),
                        headers=[("event-id", str(row.event_id).encode()), ("event-type", row.event_type.encode())],
                        on_delivery=report_for(row.pk),
                    )
                    break
                except BufferError:
                    self.producer.poll(0.1)  # local queue full: let reports drain, then go on
                except KafkaException as exc:
                    err = exc.args[0] if exc.args else None
                    broker_side = err is not None and hasattr(err, "code") and _broker_side(err)
                    reports[row.pk] = BrokerUnavailable(exc) if broker_side else str(exc)
                    break
        self.producer.flush(settings.KAFKA_DELIVERY_TIMEOUT_MS / 1000 + 5)
        results = {row.pk: reports.get(row.pk, BrokerUnavailable("no delivery report")) for row in rows}
        if any(isinstance(error, BrokerUnavailable) for error in results.values()):
            discard_producer(self.producer)
            self.producer = get_producer(self.bootstrap)
        return results


def _claim(alias, batch_size, now):
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    # Skip aggregates whose earlier row is waiting for its retry, so one failing aggregate never
    # blocks the others (no head-of-line blocking across aggregates).
    waiting_before = OutboxEvent.objects.using(alias).filter(
        published_at__isnull=True,
        topic=OuterRef("topic"),
        aggregate_id=OuterRef("aggregate_id"),
        id__lt=OuterRef("id"),
        next_attempt_at__gt=now,
    )
    query = (
        OutboxEvent.objects.using(alias)
        .filter(due, published_at__isnull=True)
        .exclude(Exists(waiting_before))
        .order_by("id")
    )
    if connections[alias].features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True)
    query = query.annotate(payload_text=Cast("payload", TextField())).values_list(*Claimed.FIELDS)
    return [Claimed(values) for values in query[:batch_size]]


def _held_back(alias, rows):
    """Rows that must wait because an earlier unpublished row of their aggregate is not in the batch
    (claimed by another relay, or waiting for its retry)."""
    if not rows:
        return set()
    claimed = {r.pk for r in rows}
    last = max(claimed)
    unpublished_before = OutboxEvent.objects.using(alias).filter(published_at__isnull=True, id__lt=last)
    # Usually every unpublished row before the batch's last one is in the batch: one id-only scan
    # of the partial index proves it, and nothing is held back.
    others = [pk for pk in unpublished_before.values_list("id", flat=True) if pk not in claimed]
    if not others:
        return set()
    aggregate_ids = {r.aggregate_id for r in rows}
    blockers = {}
    for chunk_start in range(0, len(others), 1000):
        chunk = others[chunk_start : chunk_start + 1000]
        earlier = (
            OutboxEvent.objects.using(alias)
            .filter(pk__in=chunk, aggregate_id__in=aggregate_ids)
            .values_list("id", "topic", "aggregate_id")
        )
        for pk, topic, aggregate_id in earlier:
            key = (topic, aggregate_id)
            blockers[key] = min(pk, blockers.get(key, pk))
    return {r.pk for r in rows if _key(r) in blockers and r.pk > blockers[_key(r)]}


def _mark(alias, rows, results, now):
    """Returns ``(published, failed, of which the broker's)``."""
    failed_keys = {}
    published, failed, broker_side = [], [], 0
    for row in rows:  # id order
        error = results.get(row.pk)
        if error is None and _key(row) not in failed_keys:
            published.append(row.pk)
            continue
        if error is None:
            earlier_id, earlier_error = failed_keys[_key(row)]
            held = f"held back: earlier event {earlier_id} of this aggregate failed"
            # Behind a broker outage the row is due again with the earlier one, not after a backoff.
            error = BrokerUnavailable(held) if isinstance(earlier_error, BrokerUnavailable) else held
        failed_keys.setdefault(_key(row), (row.event_id, error))
        row.attempts += 1
        row.last_error = error[:2000]
        if isinstance(error, BrokerUnavailable):
            broker_side += 1
            row.next_attempt_at = None  # due on the next pass: the broker, not the row, failed
        else:
            row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
        failed.append(row)
    if published:
        OutboxEvent.objects.using(alias).filter(pk__in=published).update(published_at=now)
    if failed:
        OutboxEvent.objects.using(alias).bulk_update(
            [
                OutboxEvent(pk=r.pk, attempts=r.attempts, last_error=r.last_error, next_attempt_at=r.next_attempt_at)
                for r in failed
            ],
            ["attempts", "last_error", "next_attempt_at"],
        )
    return len(published), len(failed), broker_side


def relay_batch(alias, publisher, batch_size=None):
    """One claim → send → mark cycle on one database. Returns ``(claimed, published, failed,
    broker_failed)``: ``broker_failed`` of the ``failed`` rows were not taken because of the broker
    (``BrokerUnavailable``), not for their own fault."""
    batch_size = batch_size or settings.EVENTS_RELAY_BATCH_SIZE
    with transaction.atomic(using=alias):
        now = timezone.now()
        rows = _claim(alias, batch_size, now)
        held = _held_back(alias, rows)
        sendable = [r for r in rows if r.pk not in held]
        results = publisher.send(sendable) if sendable else {}
        published, failed, broker_failed = _mark(alias, sendable, results, timezone.now())
    if failed:
        logger.warning("outbox rows not delivered", extra={"database": alias, "failed": failed})
    return len(rows), published, failed, broker_failed


def has_due_rows(alias):
    """Whether ``alias`` holds an unpublished row due now. One statement on the unpublished rows'
    partial index, in plain SQL: an idle pass costs a round trip per database instead of building
    the claim's query (2.8 ms of CPU per database and pass, 7 % of a core for an idle relay)."""
    connection = connections[alias]
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    sql = (
        f"SELECT 1 FROM {table} WHERE published_at IS NULL "  # noqa: S608 - the table name only
        "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now()])
        return cursor.fetchone() is not None


def make_publisher(bootstrap=None):
    if settings.EVENTS_TRANSPORT == "kafka":
        return KafkaPublisher(bootstrap)
    return None


class PassTotals(dict):
    """``{alias: published}`` for one pass over the databases, and ``broker_undelivered``:
    ``{alias: rows}`` that the last batch on that database left waiting because the broker did
    not take them. ``relay_outbox --once`` fails on those, so that a cron job or a Kubernetes Job
    sees a broker outage instead of exit status 0."""

    def __init__(self):
        super().__init__()
        self.broker_undelivered = {}


def relay_pending(aliases=None, batch_size=None, publisher=None, max_batches=None):
    """Drain every context database once (what the periodic task and each loop turn run).

    With the inline transport, rows left behind (a failed in-process delivery) are handed to the
    in-process consumers again. Returns ``PassTotals``: ``{alias: published}``, and the rows the
    broker did not take.
    """
    from apps.events.transports import deliver_inline

    batch_size = batch_size or settings.EVENTS_RELAY_BATCH_SIZE
    totals = PassTotals()
    for alias in aliases or context_aliases():
        if not has_due_rows(alias):
            totals[alias] = 0
            continue
        if publisher is None and settings.EVENTS_TRANSPORT != "kafka":
            totals[alias] = deliver_inline(alias, batch_size=batch_size)
            continue
        sender = publisher or make_publisher()
        totals[alias], batches = 0, 0
        while True:
            claimed, published, _failed, broker_failed = relay_batch(alias, sender, batch_size)
            totals[alias] += published
            batches += 1
            # Only the last batch counts: rows the broker refused are due again at once, so a
            # later batch of the same pass retries them first.
            if broker_failed:
                totals.broker_undelivered[alias] = broker_failed
            else:
                totals.broker_undelivered.pop(alias, None)
            # Stop on a short batch, or when nothing moved (all held back or failing).
            if claimed < batch_size or published == 0 or (max_batches and batches >= max_batches):
                break
    return totals


def _refresh_connections(aliases):
    """Drop broken or expired connections between turns (never one inside a transaction)."""
    for alias in aliases:
        if not connections[alias].in_atomic_block:
            connections[alias].close_if_unusable_or_obsolete()


def run_forever(stop, interval=None, batch_size=None, aliases=None):
    """The long-running relay (``manage.py relay_outbox``); ``stop`` is a ``threading.Event``.

    One pass per ``interval``, whether or not the last one moved rows: a pass already drains a
    backlog in full batches, and going again at once after a few rows kept the relay spinning
    on a trickle of checkouts (a claim per database per turn: the relay's CPU per order was the
    stack's third largest, bench/README.md finding 12). An event waits half an interval on
    average before it is sent."""
    interval = settings.EVENTS_RELAY_INTERVAL_SECONDS if interval is None else interval
    aliases = aliases or context_aliases()
    while not stop.is_set():
        started = time.monotonic()
        heartbeat.beat()
        _refresh_connections(aliases)
        failed = False
        # One database at a time: one that is down (say the split shape's unused default) must
        # not stop the events of the others.
        for alias in aliases:
            try:
                relay_pending(aliases=[alias], batch_size=batch_size)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the relay; retry next turn
                logger.exception("relay pass failed", extra={"database": alias})
                failed = True
        if failed:
            stop.wait(1.0)
        stop.wait(max(interval - (time.monotonic() - started), 0))
