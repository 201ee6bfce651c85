"""The relay's bookkeeping: claims, marks, backoff, per-aggregate order, crash recovery.

A recording publisher stands in for the broker here (the same paths run against the real broker
in test_kafka.py); what is under test is what the relay does with delivery reports.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.events import relay
from apps.events.models import OutboxEvent, ProcessedEvent
from apps.events.runner import deliver
from apps.events.tests import sink
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def kafka_mode(settings):
    settings.EVENTS_TRANSPORT = "kafka"  # publish() writes rows only; the relay sends them
    return settings


def orders():
    return alias_for("orders")


def rows():
    return list(OutboxEvent.objects.using(orders()).order_by("id"))


def test_rows_are_marked_published_only_when_delivered(kafka_mode, emit, recording):
    emit("a", 1)
    emit("b", 1)
    publisher = recording(fail={"b": "Broker: Not enough in-sync replicas"})
    assert relay.relay_pending(aliases=[orders()], publisher=publisher) == {orders(): 1}
    a, b = rows()
    assert a.published_at is not None and a.attempts == 0 and a.last_error == ""
    assert b.published_at is None and b.attempts == 1
    assert "in-sync replicas" in b.last_error
    assert b.next_attempt_at > timezone.now()


def test_a_pass_builds_no_claim_on_a_database_with_nothing_due(kafka_mode, emit, recording, monkeypatch):
    """An idle relay only probes (``has_due_rows``): building the claim on every database at
    every turn cost an idle relay 7 % of a core."""
    claims = []
    claim = relay._claim
    monkeypatch.setattr(relay, "_claim", lambda alias, *args: claims.append(alias) or claim(alias, *args))
    publisher = recording(fail={"b": "Broker: Not enough in-sync replicas"})

    assert relay.relay_pending(aliases=[orders()], publisher=publisher) == {orders(): 0}
    assert claims == []  # nothing at all
    emit("b", 1)
    relay.relay_pending(aliases=[orders()], publisher=publisher)
    assert claims == [orders()]  # due: claimed, refused by the broker, now waiting for its retry
    assert relay.relay_pending(aliases=[orders()], publisher=publisher) == {orders(): 0}
    assert claims == [orders()]  # nothing due until the backoff ends

    OutboxEvent.objects.using(orders()).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    publisher.fail.clear()
    assert relay.relay_pending(aliases=[orders()], publisher=publisher) == {orders(): 1}
    assert claims == [orders(), orders()]


def test_backoff_grows_and_is_capped(settings):
    settings.EVENTS_RELAY_BACKOFF_MAX_SECONDS = 60
    assert [relay.backoff_seconds(n) for n in (1, 2, 3, 4, 7, 20)] == [1, 2, 4, 8, 60, 60]


def test_a_failing_row_is_retried_after_its_backoff(kafka_mode, emit, recording):
    emit("b", 1)
    failing = recording(fail={"b": "timed out"})
    relay.relay_pending(aliases=[orders()], publisher=failing)
    healthy = recording()
    relay.relay_pending(aliases=[orders()], publisher=healthy)
    assert healthy.sent == []  # not due yet
    OutboxEvent.objects.using(orders()).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    relay.relay_pending(aliases=[orders()], publisher=healthy)
    assert [s[:2] for s in healthy.sent] == [("b", 1)]
    (row,) = rows()
    assert row.published_at is not None and row.attempts == 1


def test_rows_the_broker_could_not_take_are_due_again_on_the_next_pass(kafka_mode, emit, recording):
    """A broker outage is not the rows' fault: no per-row backoff to sit out once it is back,
    for the failed row nor for the later row of its aggregate held back behind it."""
    emit("b", 1)
    emit("b", 2)
    emit("c", 1)

    class FirstRowLost(recording):  # b's first row times out, its second one is delivered
        def send(self, rows):
            results = super().send(rows)
            results[rows[0].pk] = relay.BrokerUnavailable("Local: Message timed out")
            return results

    relay.relay_pending(aliases=[orders()], publisher=FirstRowLost(fail={"c": "Message too large"}))
    b1, b2, c1 = rows()
    assert (b1.attempts, b1.next_attempt_at) == (1, None) and "timed out" in b1.last_error
    assert (b2.attempts, b2.next_attempt_at) == (1, None) and "held back" in b2.last_error
    assert c1.next_attempt_at > timezone.now()  # the row's own fault: backoff
    healthy = recording()
    relay.relay_pending(aliases=[orders()], publisher=healthy)
    assert [s[:2] for s in healthy.sent] == [("b", 1), ("b", 2)]


def test_a_pass_reports_the_rows_the_broker_did_not_take(kafka_mode, emit, recording):
    """What ``relay_outbox --once`` exits non-zero on: rows left waiting because of the broker,
    not rows refused for their own fault, nor rows delivered after an earlier failure."""
    emit("a", 1)
    emit("b", 1)

    class BrokerAway(recording):
        def send(self, rows):
            super().send(rows)
            return {row.pk: relay.BrokerUnavailable("Local: Message timed out") for row in rows}

    assert relay.relay_pending(aliases=[orders()], publisher=BrokerAway()).broker_undelivered == {orders(): 2}
    emit("c", 1)
    totals = relay.relay_pending(aliases=[orders()], publisher=recording(fail={"c": "Message too large"}))
    assert totals == {orders(): 2} and totals.broker_undelivered == {}


def test_order_per_aggregate_is_kept_while_other_aggregates_go_on(kafka_mode, emit, recording):
    emit("a", 1)
    emit("b", 1)
    emit("a", 2)
    emit("b", 2)
    relay.relay_pending(aliases=[orders()], publisher=recording(fail={"a": "timed out"}))
    # a1 failed, a2 (delivered in the same batch) is not marked: it must follow a1 again.
    state = {(r.aggregate_id, r.payload["n"]): r.published_at is not None for r in rows()}
    assert state == {("a", 1): False, ("a", 2): False, ("b", 1): True, ("b", 2): True}

    # While a1 waits for its retry, a later "a" row is not even claimed, but other aggregates flow.
    emit("a", 3)
    emit("c", 1)
    publisher = recording()
    relay.relay_pending(aliases=[orders()], publisher=publisher)
    assert [s[:2] for s in publisher.sent] == [("c", 1)]

    OutboxEvent.objects.using(orders()).update(next_attempt_at=None)
    publisher = recording()
    relay.relay_pending(aliases=[orders()], publisher=publisher)
    assert [s[:2] for s in publisher.sent] == [("a", 1), ("a", 2), ("a", 3)]
    assert not OutboxEvent.objects.using(orders()).filter(published_at__isnull=True).exists()


def test_a_row_behind_a_row_claimed_elsewhere_waits(kafka_mode, emit, recording):
    first = emit("a", 1)
    emit("a", 2)
    emit("b", 1)
    # Another relay holds "a 1" (simulated: outside this batch of size 1 starting after it).
    claimed = relay._claim(orders(), 10, timezone.now())
    held = relay._held_back(orders(), [r for r in claimed if r.pk != first.pk])
    assert {(r.aggregate_id, r.payload["n"]) for r in claimed if r.pk in held} == {("a", 2)}


def test_relay_killed_between_produce_and_mark_redelivers_and_consumer_absorbs_it(
    kafka_mode, emit, recording, monkeypatch
):
    emit("a", 1)
    emit("a", 2)
    publisher = recording()

    def killed(*args, **kwargs):
        raise SystemExit("relay killed after produce, before marking")

    monkeypatch.setattr(relay, "_mark", killed)
    with pytest.raises(SystemExit):
        relay.relay_pending(aliases=[orders()], publisher=publisher)
    assert all(r.published_at is None for r in rows())  # the mark never happened
    monkeypatch.undo()
    relay.relay_pending(aliases=[orders()], publisher=publisher)
    assert all(r.published_at is not None for r in rows())

    # The broker got every event twice; the consumer applies each once.
    by_id = {str(r.event_id): r for r in rows()}
    assert len(publisher.sent) == 4
    for _key, _n, event_id in publisher.sent:
        deliver(sink.TOPIC, by_id[event_id].envelope(), groups=[sink.GROUP])
    assert sink.by_key() == {"a": [1, 2]}
    assert ProcessedEvent.objects.using(orders()).filter(group=sink.GROUP).count() == 2


def test_large_backlog_is_drained_in_batches(kafka_mode, emit, recording):
    for n in range(25):
        emit(f"k{n % 3}", n)
    publisher = recording()
    assert relay.relay_pending(aliases=[orders()], publisher=publisher, batch_size=10) == {orders(): 25}
    assert len(publisher.sent) == 25
