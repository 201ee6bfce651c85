"""The Kafka consumer loop behind ``manage.py consume_events --group <name>``.

- One consumer group per registered group name (prefixed like the topics), auto-commit off.
- Each message goes through ``runner.deliver(topic, value, groups=[group])``: the handler's effect
  and the processed event id are one transaction, a handler that keeps failing is dead-lettered,
  a message that is not a valid envelope is dead-lettered at once. Nothing a message contains
  can end the loop.
- Offsets are committed after the effects of the messages they cover (at-least-once; the inbox
  makes redelivery harmless).
- A batch of messages is applied in one database transaction (each message in its own
  savepoint), then its offsets are committed. If the runner itself fails, or a handler fails for
  a reason that is not the message's (``runner.NOT_THE_MESSAGES_FAULT``: the database or the
  search index is down), the batch rolls back, no offset is committed, and the consumer seeks
  back to the batch's first messages and tries again after a growing pause (up to 30 s), so
  nothing is skipped and nothing is dead-lettered for a server's outage.
- A broker that is away is waited for, never a reason to exit: at start (the topics cannot be
  checked yet) the consumer logs the error and tries again after the same growing pause; later,
  librdkafka reconnects on its own and ``consume()`` reports the outage as a non-fatal error.
  A consumer that exited instead would leave its Deployment in a crash loop whose backoff
  outlasts the broker's restart.
"""

import logging
import time
from contextlib import ExitStack

from django.db import connections, transaction

from apps.events import heartbeat
from apps.events.kafka import consumer_config, ensure_topics, logical_topic, wire_topic
from apps.events.registry import subscriptions
from apps.events.runner import deliver, processed_ids
from ecommerce.db import alias_for

logger = logging.getLogger(__name__)
RETRY_PAUSE_MAX_SECONDS = 30.0


def _refresh_connections():
    """Drop broken or expired connections between messages (never one inside a transaction)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def _apply_batch(group, messages, aliases):
    """Apply a batch in one transaction per database: each message in its own savepoint (a
    failing handler rolls back only its own effect and is dead-lettered), one commit for all.
    One commit per batch instead of per message is what lets a consumer keep up with a busy topic.
    """
    with ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
        # Which messages were handled before (redeliveries): one query for the whole batch.
        processed = processed_ids(group, filter(None, (_event_id(message) for message in messages)))
        for message in messages:
            deliver(logical_topic(message.topic()), message.value(), groups=[group], processed=processed)


def _event_id(message):
    """The ``event-id`` header the relay sets (else None: the message is then checked alone)."""
    for key, value in message.headers() or []:
        if key == "event-id" and value:
            return value.decode("utf-8", errors="replace")
    return None


class ConsumerStats:
    def __init__(self):
        self.messages = 0
        self.failures = 0
        self.started = time.monotonic()
        self.last_message = None


def _retry_pause(failures_in_a_row):
    """1 s, 2 s, 4 s ... up to 30 s while a server stays away."""
    return min(2.0 ** (failures_in_a_row - 1), RETRY_PAUSE_MAX_SECONDS)


def _wait_for_topics(group, topics, stop, bootstrap):
    """Make sure the topics exist, retrying while the broker is away. Returns False when ``stop``
    was set before the broker answered."""
    from confluent_kafka import KafkaException

    attempts = 0
    while not stop.is_set():
        heartbeat.beat()
        try:
            ensure_topics(topics, bootstrap=bootstrap)
            return True
        except KafkaException as exc:
            attempts += 1
            pause = _retry_pause(attempts)
            logger.error(
                "broker unavailable, cannot check the topics; retrying in %.0f s: %s",
                pause,
                exc,
                extra={"group": group, "attempts": attempts},
            )
            stop.wait(pause)
    return False


def run_consumer(group, stop, *, bootstrap=None, batch=500, poll_timeout=0.1, max_messages=None, idle_seconds=None):
    """Consume ``group``'s topics until ``stop`` (a ``threading.Event``) is set.

    ``max_messages`` / ``idle_seconds`` end the loop early (tests, benchmarks). Returns stats.
    """
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    topics = sorted({s.topic for s in subscriptions(group=group)})
    if not topics:
        raise ValueError(f"no consumer registered for group {group!r}")
    stats = ConsumerStats()
    if not _wait_for_topics(group, topics, stop, bootstrap):
        return stats
    aliases = sorted({alias_for(s.context) for s in subscriptions(group=group)})
    client = Consumer(consumer_config(group, bootstrap))
    client.subscribe([wire_topic(t) for t in topics])
    idle_since = time.monotonic()
    failures_in_a_row = 0
    try:
        while not stop.is_set():
            heartbeat.beat()
            # consume() waits for ``batch`` messages or ``poll_timeout``: a short timeout keeps a
            # quiet topic's latency low, a busy one still gets batches (one commit per batch).
            messages = client.consume(num_messages=batch, timeout=poll_timeout)
            if not messages:
                if idle_seconds is not None and time.monotonic() - idle_since > idle_seconds:
                    break
                continue
            idle_since = time.monotonic()
            valid = []
            for message in messages:
                error = message.error()
                if error is None:
                    valid.append(message)
                    continue
                if error.fatal():
                    raise RuntimeError(f"fatal Kafka error: {error}")
                if error.code() != KafkaError._PARTITION_EOF:
                    logger.warning("consumer error", extra={"group": group, "error": str(error)})
            if not valid:
                continue
            _refresh_connections()
            try:
                _apply_batch(group, valid, aliases)
            except Exception:  # noqa: BLE001 - a server away (database, search index): retry the batch
                logger.exception("could not process a batch; will retry it", extra={"group": group})
                stats.failures += 1
                failures_in_a_row += 1
                rewind = {}
                for message in valid:
                    rewind.setdefault((message.topic(), message.partition()), message.offset())
                for (t, p), o in rewind.items():
                    client.seek(TopicPartition(t, p, o))
                stop.wait(_retry_pause(failures_in_a_row))
                continue
            failures_in_a_row = 0
            offsets = {}
            for message in valid:
                offsets[(message.topic(), message.partition())] = message.offset() + 1
            # Committed after the effects (at-least-once); a crash before this line means redelivery.
            client.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
            stats.messages += len(valid)
            stats.last_message = time.monotonic()
            if max_messages is not None and stats.messages >= max_messages:
                break
    finally:
        client.close()  # leaves the group at once, so the partitions move without waiting
    return stats
