"""The outbox and the inline transport: no event without its change, none lost with it."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.events import relay, transports
from apps.events.models import DeadLetter, OutboxEvent, ProcessedEvent
from apps.events.outbox import publish
from apps.events.tests import sink
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def orders():
    return alias_for("orders")


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        publish(sink.TOPIC, "THING_CREATED", "a", {"key": "a", "n": 1}, using=orders())


@pytest.mark.postgres
def test_events_written_together_are_inserted_as_rows_not_arrays(settings):
    """Several events in one INSERT: plain VALUES rows. Django's UNNEST form had psycopg escape
    every JSON document into an array literal in Python (0.8 ms per product document)."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from apps.events.outbox import publish_many

    settings.EVENTS_TRANSPORT = "kafka"  # rows only
    payloads = [{"key": "a", "n": 1, "text": 'quote " and \\ backslash, é, {braces}'}, {"key": "b", "n": [1, None]}]
    with CaptureQueriesContext(connections[orders()]) as captured, transaction.atomic(using=orders()):
        rows = publish_many(sink.TOPIC, "THING_UPDATED", [("a", payloads[0]), ("b", payloads[1])], using=orders())
    (insert,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert "UNNEST" not in insert
    stored = OutboxEvent.objects.using(orders()).filter(pk__in=[r.pk for r in rows]).order_by("id")
    assert [row.payload for row in stored] == payloads


def test_rollback_leaves_no_event(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=orders(), execute=True):
        with pytest.raises(ZeroDivisionError):
            with transaction.atomic(using=orders()):
                publish(sink.TOPIC, "THING_CREATED", "a", {"key": "a", "n": 1}, using=orders())
                1 / 0  # noqa: B018 - the change fails after the event was written
    assert not OutboxEvent.objects.using(orders()).exists()
    assert sink.HANDLED == []


def test_commit_writes_the_row_then_delivers_and_marks_it(emit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=orders(), execute=False) as callbacks:
        row = emit("a", 1, "THING_CREATED")
    stored = OutboxEvent.objects.using(orders()).get(pk=row.pk)
    assert stored.published_at is None  # committed, not yet relayed
    assert sink.HANDLED == []
    for callback in callbacks:
        callback()
    stored.refresh_from_db()
    assert stored.published_at is not None and stored.attempts == 1
    assert sink.HANDLED == [("a", 1, str(row.event_id))]
    assert ProcessedEvent.objects.using(orders()).filter(group=sink.GROUP, event_id=row.event_id).exists()


def test_envelope_has_the_contract_shape(emit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=orders(), execute=False):
        row = emit("a", 1, "THING_CREATED")
    envelope = row.envelope()
    assert set(envelope) == {"id", "type", "payload", "timestamp", "sourceService"}
    assert envelope["id"] == str(row.event_id) and envelope["type"] == "THING_CREATED"
    assert envelope["payload"] == {"key": "a", "n": 1}
    assert envelope["timestamp"].endswith("Z")
    uuid.UUID(envelope["id"])


def test_a_failing_handler_never_breaks_the_committed_request(emit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=orders(), execute=True):
        row = emit("a", 1, "POISON")  # the handler raises every time
    # No exception reached the caller; the message is dead-lettered and the row is not retried.
    letter = DeadLetter.objects.using(orders()).get()
    assert letter.group == sink.GROUP and letter.event_id == str(row.event_id)
    assert "poison message" in letter.error and letter.attempts == 3
    assert OutboxEvent.objects.using(orders()).get(pk=row.pk).published_at is not None


def test_a_failed_hand_over_keeps_the_row_for_the_relay(emit, django_capture_on_commit_callbacks, monkeypatch):
    def broken(topic, raw, groups=None, attempts=3):
        raise ConnectionError("database went away")

    monkeypatch.setattr(transports, "deliver", broken)
    with django_capture_on_commit_callbacks(using=orders(), execute=True):
        row = emit("a", 1)  # no exception for the request
    stored = OutboxEvent.objects.using(orders()).get(pk=row.pk)
    assert stored.published_at is None and stored.attempts == 1
    assert "database went away" in stored.last_error
    assert stored.next_attempt_at > timezone.now()

    monkeypatch.undo()
    assert relay.relay_pending(aliases=[orders()]) == {orders(): 0}  # still backing off
    OutboxEvent.objects.using(orders()).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert relay.relay_pending(aliases=[orders()]) == {orders(): 1}
    assert sink.HANDLED == [("a", 1, str(row.event_id))]


def test_events_of_one_transaction_are_delivered_in_order(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=orders(), execute=True):
        with transaction.atomic(using=orders()):
            for n in range(5):
                publish(sink.TOPIC, "THING_UPDATED", "a", {"key": "a", "n": n}, using=orders())
    assert sink.by_key() == {"a": [0, 1, 2, 3, 4]}
    assert not OutboxEvent.objects.using(orders()).filter(published_at__isnull=True).exists()
