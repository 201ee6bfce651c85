"""The Kafka consumer loop behind ``manage.py consume_events --group <name>``.

- One consumer group per registered group name (prefixed like the topics), auto-commit off.
- Each message goes through ``runner.deliver(topic, value, groups=[group])``: the handler's effect
  and the processed event id are one transaction, a handler that keeps failing is dead-lettered,
  a message that is not a valid envelope is dead-lettered at once. Nothing a message contains
  can end the loop.
- Offsets are committed after the effects of the messages they cover (at-least-once; the inbox
  makes redelivery harmless).
- If the runner itself fails (the database is down, say), the offset is not committed: the
  consumer seeks back to that message and tries again after a pause, so nothing is skipped.
"""

import logging
import time

from django.db import connections

from apps.events.kafka import consumer_config, ensure_topics, logical_topic, wire_topic
from apps.events.registry import subscriptions
from apps.events.runner import deliver

logger = logging.getLogger(__name__)


def _refresh_connections():
    """Drop broken or expired connections between messages (never one inside a transaction)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


class ConsumerStats:
    def __init__(self):
        self.messages = 0
        self.failures = 0
        self.started = time.monotonic()
        self.last_message = None


def run_consumer(group, stop, *, bootstrap=None, batch=500, poll_timeout=0.5, max_messages=None, idle_seconds=None):
    """Consume ``group``'s topics until ``stop`` (a ``threading.Event``) is set.

    ``max_messages`` / ``idle_seconds`` end the loop early (tests, benchmarks). Returns stats.
    """
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    topics = sorted({s.topic for s in subscriptions(group=group)})
    if not topics:
        raise ValueError(f"no consumer registered for group {group!r}")
    ensure_topics(topics, bootstrap=bootstrap)
    client = Consumer(consumer_config(group, bootstrap))
    client.subscribe([wire_topic(t) for t in topics])
    stats = ConsumerStats()
    idle_since = time.monotonic()
    try:
        while not stop.is_set():
            messages = client.consume(num_messages=batch, timeout=poll_timeout)
            if not messages:
                if idle_seconds is not None and time.monotonic() - idle_since > idle_seconds:
                    break
                continue
            idle_since = time.monotonic()
            offsets = {}
            retry_from = None
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        logger.warning("consumer error", extra={"group": group, "error": str(error)})
                    if error.fatal():
                        raise RuntimeError(f"fatal Kafka error: {error}")
                    continue
                _refresh_connections()
                try:
                    deliver(logical_topic(message.topic()), message.value(), groups=[group])
                except Exception:  # noqa: BLE001 - infrastructure failure: retry this message later
                    logger.exception("could not process message; will retry", extra={"group": group})
                    stats.failures += 1
                    retry_from = message
                    break
                offsets[(message.topic(), message.partition())] = message.offset() + 1
                stats.messages += 1
                stats.last_message = time.monotonic()
            if offsets:
                client.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
            if retry_from is not None:
                # Rewind every partition of this poll to its first unprocessed message.
                rewind = {}
                for message in messages:
                    if message.error() is None:
                        key = (message.topic(), message.partition())
                        rewind.setdefault(key, offsets.get(key, message.offset()))
                for (t, p), o in rewind.items():
                    client.seek(TopicPartition(t, p, o))
                stop.wait(1.0)
            if max_messages is not None and stats.messages >= max_messages:
                break
    finally:
        client.close()  # leaves the group at once, so the partitions move without waiting
    return stats
