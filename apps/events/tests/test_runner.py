"""Consumers: idempotent handling, poison messages and bad payloads go to the dead-letter table."""

import json
import uuid

import pytest

from apps.events.models import DeadLetter, ProcessedEvent
from apps.events.runner import deliver
from apps.events.tests import sink
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def envelope(event_type="THING_UPDATED", key="a", n=1, event_id=None):
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "payload": {"key": key, "n": n},
        "timestamp": "2026-01-01T00:00:00Z",
        "sourceService": "test",
    }


def letters():
    return list(DeadLetter.objects.using(alias_for("orders")).order_by("id"))


def test_redelivery_is_harmless():
    message = json.dumps(envelope()).encode()
    for _ in range(3):
        deliver(sink.TOPIC, message, groups=[sink.GROUP])
    assert len(sink.HANDLED) == 1
    assert ProcessedEvent.objects.using(alias_for("orders")).count() == 1


def test_poison_message_is_dead_lettered_and_the_consumer_goes_on():
    poison = envelope("POISON")
    deliver(sink.TOPIC, json.dumps(poison), groups=[sink.GROUP])
    deliver(sink.TOPIC, json.dumps(envelope(n=2)), groups=[sink.GROUP])
    (letter,) = letters()
    assert letter.event_id == poison["id"] and letter.group == sink.GROUP and letter.topic == sink.TOPIC
    assert "poison message" in letter.error and letter.attempts == 3
    assert json.loads(letter.raw)["type"] == "POISON"
    assert sink.by_key() == {"a": [2]}
    # The failed handler's transaction rolled back: the poison event is not recorded as processed.
    assert not ProcessedEvent.objects.using(alias_for("orders")).filter(event_id=poison["id"]).exists()


@pytest.mark.parametrize("failure", ["retry_later", "database"])
def test_a_server_outage_is_raised_to_the_consumer_not_dead_lettered(failure, monkeypatch):
    """Not poison: the consumer keeps the message (no offset committed) and retries it later."""
    from django.db import OperationalError

    from apps.events import registry

    event = envelope("NEEDS_SERVER")
    if failure == "retry_later":
        sink.SERVER_DOWN_FOR["attempts"] = 1
        expected = registry.RetryLater
    else:

        def database_down(event):
            raise OperationalError("connection to server was lost")

        subscription = next(iter(registry.subscriptions(group=sink.GROUP)))
        monkeypatch.setattr(subscription, "handler", database_down)
        expected = OperationalError
    with pytest.raises(expected):
        deliver(sink.TOPIC, json.dumps(event), groups=[sink.GROUP])
    assert letters() == []
    assert not ProcessedEvent.objects.using(alias_for("orders")).filter(event_id=event["id"]).exists()
    monkeypatch.undo()
    deliver(sink.TOPIC, json.dumps(event), groups=[sink.GROUP])  # the server is back
    assert sink.handled_ids() == [event["id"]]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00\xffnot json at all", "not JSON"),
        (b"[1, 2, 3]", "not an object"),
        (b'"a string"', "not an object"),
        (None, "not an object"),  # a tombstone
        (json.dumps({"type": "THING_UPDATED", "payload": {}}).encode(), "lacks id"),
        (json.dumps({"id": "x", "type": "THING_UPDATED", "payload": "text"}).encode(), "payload is not an object"),
        (json.dumps(envelope("SOMETHING_ELSE")).encode(), "unknown event type"),
        (json.dumps({**envelope(), "payload": {"key": "a"}}).encode(), "KeyError"),
    ],
    ids=["binary", "array", "string", "tombstone", "no-id", "payload-text", "unknown-type", "missing-field"],
)
def test_bad_payloads_never_crash_a_consumer(raw, reason):
    deliver(sink.TOPIC, raw, groups=[sink.GROUP])  # does not raise
    (letter,) = letters()
    assert reason in letter.error
    deliver(sink.TOPIC, json.dumps(envelope(n=7)), groups=[sink.GROUP])
    assert sink.by_key() == {"a": [7]}


def test_other_groups_are_not_run_when_a_group_is_named():
    deliver(sink.TOPIC, json.dumps(envelope()), groups=["someone-else"])
    assert sink.HANDLED == []


class FakeMessage:
    """What the consumer loop reads of a confluent_kafka Message (no broker in this test)."""

    def __init__(self, envelope, with_header=True):
        self._value = json.dumps(envelope).encode()
        self._headers = [("event-id", envelope["id"].encode())] if with_header else None

    def topic(self):
        from apps.events.kafka import wire_topic

        return wire_topic(sink.TOPIC)

    def value(self):
        return self._value

    def headers(self):
        return self._headers


def test_a_batch_asks_once_which_events_were_handled_and_skips_redeliveries():
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from apps.events.consumer import _apply_batch

    seen, new = envelope(n=1), envelope(n=2)
    deliver(sink.TOPIC, json.dumps(seen), groups=[sink.GROUP])
    no_header = envelope(n=3)
    batch = [FakeMessage(seen), FakeMessage(new), FakeMessage(new), FakeMessage(no_header, with_header=False)]
    alias = alias_for("orders")
    with CaptureQueriesContext(connections[alias]) as queries:
        _apply_batch(sink.GROUP, batch, [alias])
    assert sink.by_key() == {"a": [1, 2, 3]}  # the redelivery and the copy in the batch: skipped
    lookups = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "events_processedevent" in q["sql"]]
    assert len(lookups) == 2  # one for the batch, one for the message without an event-id header
    assert ProcessedEvent.objects.using(alias).filter(group=sink.GROUP).count() == 3
