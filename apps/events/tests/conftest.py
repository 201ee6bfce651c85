import uuid

import pytest
from django.db import transaction

from apps.events.outbox import publish
from apps.events.tests import sink
from ecommerce.db import alias_for


@pytest.fixture(autouse=True)
def _clean_sink():
    sink.HANDLED.clear()
    sink.SERVER_DOWN_FOR["attempts"] = 0
    yield
    sink.HANDLED.clear()
    sink.SERVER_DOWN_FOR["attempts"] = 0


@pytest.fixture
def emit():
    """``emit(key, n, type=...)`` commits one event on the orders database and returns its row."""

    def make(key, n, event_type="THING_UPDATED", payload=None):
        alias = alias_for("orders")
        with transaction.atomic(using=alias):
            return publish(
                sink.TOPIC,
                event_type,
                key,
                payload if payload is not None else {"key": key, "n": n},
                using=alias,
                aggregate_type="thing",
            )

    return make


@pytest.fixture
def kafka_settings(settings):
    """Kafka transport with a topic prefix (and consumer group ids) unique to this test."""
    settings.EVENTS_TRANSPORT = "kafka"
    settings.EVENTS_TOPIC_PREFIX = f"{settings.EVENTS_TOPIC_PREFIX}t{uuid.uuid4().hex[:10]}_"
    settings.KAFKA_SESSION_TIMEOUT_MS = 6000
    settings.KAFKA_DELIVERY_TIMEOUT_MS = 10000
    return settings


class RecordingPublisher:
    """Stands in for the broker where a test is about the relay's own bookkeeping.

    ``fail`` maps an aggregate id to an error; everything else is reported delivered.
    """

    def __init__(self, fail=None, delay=0.0):
        import threading

        self.fail = dict(fail or {})
        self.sent = []
        self.delay = delay
        self._lock = threading.Lock()

    def send(self, rows):
        import time

        results = {}
        with self._lock:
            for row in rows:
                self.sent.append((row.aggregate_id, row.payload.get("n"), str(row.event_id)))
                results[row.pk] = self.fail.get(row.aggregate_id)
        if self.delay:
            time.sleep(self.delay)
        return results


@pytest.fixture
def recording():
    return RecordingPublisher
