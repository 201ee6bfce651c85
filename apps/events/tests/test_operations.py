"""Operations: status command, metrics and readiness, pruning, commands' guards, admin retry."""

import json
import os
import signal
import threading
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.events.models import DeadLetter, OutboxEvent, ProcessedEvent
from apps.events.tests import sink
from ecommerce.db import alias_for, context_aliases, routed_aliases

pytestmark = pytest.mark.django_db


def orders():
    return alias_for("orders")


@pytest.fixture
def backlog(settings, emit):
    settings.EVENTS_TRANSPORT = "kafka"
    for n in range(3):
        emit("a", n)
    OutboxEvent.objects.using(orders()).update(created_at=timezone.now() - timedelta(seconds=90))
    return 3


def test_outbox_status_prints_backlog_and_oldest_age(backlog):
    out = StringIO()
    call_command("outbox_status", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert set(report) == set(context_aliases())
    assert report[orders()]["backlog"] == 3
    assert 89 <= report[orders()]["oldestUnpublishedAgeSeconds"] < 200
    out = StringIO()
    call_command("outbox_status", stdout=out)
    assert "backlog" in out.getvalue() and orders() in out.getvalue()


def test_metrics_and_readiness_report_the_backlog(backlog, client):
    body = client.get("/metrics").content.decode()
    assert f'outbox_backlog{{database="{orders()}"}} 3' in body
    assert f'outbox_oldest_unpublished_age_seconds{{database="{orders()}"}}' in body
    ready = client.get("/health/ready")
    outbox = ready.json()["checks"]["outbox"]
    assert outbox["status"] == "UP"
    assert outbox["databases"][orders()]["backlog"] == 3


def test_broker_away_degrades_readiness_unless_strict(settings, client, monkeypatch):
    from apps.events import maintenance
    from ecommerce import health

    settings.KAFKA_BOOTSTRAP_SERVERS = "127.0.0.1:1"
    with pytest.raises(Exception):  # noqa: B017 - any failure is reported with its reason
        maintenance.broker_check()
    monkeypatch.setattr(health, "_checks", {**health._checks})
    monkeypatch.setattr(health, "_optional", set(health._optional))
    health.register_check("broker", maintenance.broker_check, critical=False)
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "DEGRADED"
    assert response.json()["checks"]["broker"]["status"] == "DOWN"
    health.register_check("broker", maintenance.broker_check, critical=True)  # EVENTS_BROKER_READINESS_STRICT
    assert client.get("/health/ready").status_code == 503


def test_prune_deletes_only_old_published_rows(settings, emit):
    settings.EVENTS_TRANSPORT = "kafka"
    old, recent, pending = emit("a", 1), emit("a", 2), emit("a", 3)
    now = timezone.now()
    OutboxEvent.objects.using(orders()).filter(pk=old.pk).update(published_at=now - timedelta(hours=80))
    OutboxEvent.objects.using(orders()).filter(pk=recent.pk).update(published_at=now - timedelta(hours=1))
    OutboxEvent.objects.using(orders()).filter(pk=pending.pk).update(created_at=now - timedelta(days=30))
    ProcessedEvent.objects.using(orders()).create(group="g", event_id=uuid.uuid4())
    ProcessedEvent.objects.using(orders()).update(processed_at=now - timedelta(days=30))
    out = StringIO()
    call_command("prune_outbox", stdout=out)
    left = set(OutboxEvent.objects.using(orders()).values_list("pk", flat=True))
    assert left == {recent.pk, pending.pk}
    assert not ProcessedEvent.objects.using(orders()).exists()
    assert "1 outbox rows" in out.getvalue()
    call_command("prune_outbox", "--hours", "0", stdout=StringIO())
    assert set(OutboxEvent.objects.using(orders()).values_list("pk", flat=True)) == {pending.pk}


def test_prune_task_runs_eagerly(settings, emit):
    from apps.events.tasks import prune_outbox_task

    settings.EVENTS_TRANSPORT = "kafka"
    row = emit("a", 1)
    OutboxEvent.objects.using(orders()).filter(pk=row.pk).update(published_at=timezone.now() - timedelta(days=9))
    prune_outbox_task.delay()
    assert not OutboxEvent.objects.using(orders()).exists()


def test_relay_task_and_once_command_drain_the_inline_leftovers(emit, django_capture_on_commit_callbacks):
    from apps.events.tasks import relay_outbox_task

    with django_capture_on_commit_callbacks(using=orders(), execute=False):
        emit("a", 1)
    relay_outbox_task.delay()
    assert sink.by_key() == {"a": [1]}
    with django_capture_on_commit_callbacks(using=orders(), execute=False):
        emit("a", 2)
    out = StringIO()
    call_command("relay_outbox", "--once", stdout=out)
    assert sink.by_key() == {"a": [1, 2]} and "1 published" in out.getvalue()


def test_relay_once_command_fails_when_the_broker_took_none_of_the_due_rows(settings, emit):
    """A cron job or a Kubernetes Job runs ``relay_outbox --once``: with the broker away it must
    see a failure, not exit 0 with every row still waiting (a closed port: nothing listens)."""
    import socket

    from apps.events import kafka

    settings.EVENTS_TRANSPORT = "kafka"
    settings.KAFKA_DELIVERY_TIMEOUT_MS = 1500
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{probe.getsockname()[1]}"
    emit("a", 1)
    emit("b", 1)
    out = StringIO()
    try:
        with pytest.raises(CommandError, match=f"broker unavailable: 2 rows not delivered \\({orders()}: 2\\)"):
            call_command("relay_outbox", "--once", stdout=out)
    finally:
        kafka.close_producers(timeout=0)
    assert f"{orders()}: 0 published" in out.getvalue()
    assert OutboxEvent.objects.using(orders()).filter(published_at__isnull=True, attempts=1).count() == 2


def test_relay_once_command_succeeds_when_nothing_is_due(settings):
    settings.EVENTS_TRANSPORT = "kafka"
    settings.KAFKA_BOOTSTRAP_SERVERS = "127.0.0.1:1"  # never asked: no row is due
    out = StringIO()
    call_command("relay_outbox", "--once", stdout=out)
    assert f"{orders()}: 0 published" in out.getvalue()


def test_beat_schedule_has_the_relay_and_the_prune(settings):
    assert {"events-relay-outbox", "events-prune-outbox"} <= set(settings.CELERY_BEAT_SCHEDULE)


def test_relay_command_stops_cleanly_on_sigterm(emit, django_capture_on_commit_callbacks):
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with django_capture_on_commit_callbacks(using=orders(), execute=False):
        emit("a", 1)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    out = StringIO()
    try:
        call_command("relay_outbox", "--interval", "0.05", stdout=out)
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert "relay stopped" in out.getvalue()
    assert sink.by_key() == {"a": [1]}


def test_the_relay_loop_beats_at_every_turn(settings, tmp_path, monkeypatch):
    """The file the image's healthcheck reads (docker/entrypoint.sh healthcheck)."""
    from apps.events import heartbeat, relay

    settings.EVENTS_HEARTBEAT_FILE = str(tmp_path / "heartbeat")
    # The loop's turns, without the passes' database work (this test's transaction holds SQLite).
    monkeypatch.setattr(relay, "relay_pending", lambda **kwargs: {})
    monkeypatch.setattr(relay, "_refresh_connections", lambda aliases: None)
    stop = threading.Event()
    loop = threading.Thread(target=relay.run_forever, args=(stop,), kwargs={"interval": 0.05})
    loop.start()
    try:
        deadline = time.monotonic() + 10
        while heartbeat.age_seconds(settings.EVENTS_HEARTBEAT_FILE) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first = os.path.getmtime(settings.EVENTS_HEARTBEAT_FILE)
        time.sleep(0.3)
        assert os.path.getmtime(settings.EVENTS_HEARTBEAT_FILE) > first  # still beating
    finally:
        stop.set()
        loop.join(10)
    assert heartbeat.age_seconds(str(tmp_path / "never-written")) is None


def test_the_relay_loop_waits_out_its_interval_after_a_pass_that_moved_rows(monkeypatch):
    """A trickle of events must not keep the relay spinning: after each pass, moved rows or
    not, the loop sleeps the rest of its interval (a backlog is drained within one pass)."""
    from apps.events import relay

    passes, waits = [], []

    class Stop:
        def is_set(self):
            return len(passes) >= 3

        def wait(self, seconds):
            waits.append(seconds)

    def relay_pending(**kwargs):
        passes.append(kwargs)
        return {"default": 7}  # every pass moves rows

    monkeypatch.setattr(relay, "relay_pending", relay_pending)
    monkeypatch.setattr(relay, "_refresh_connections", lambda aliases: None)
    relay.run_forever(Stop(), interval=5.0, aliases=["default"])
    assert len(waits) == 3
    assert all(4.0 < seconds <= 5.0 for seconds in waits)


def test_a_consumer_started_while_the_broker_is_away_logs_it_and_waits(settings, caplog):
    """No KafkaException traceback: the consumer says the broker is away and tries again after a
    pause, as it waits out a server's outage later (a closed port: nothing listens)."""
    import socket

    from apps.events.consumer import run_consumer

    settings.EVENTS_TRANSPORT = "kafka"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{probe.getsockname()[1]}"
    pauses = []

    class StopAfterTwoPauses:
        def is_set(self):
            return len(pauses) >= 2

        def wait(self, seconds):
            pauses.append(seconds)

    with caplog.at_level("ERROR", logger="apps.events.consumer"):
        stats = run_consumer(sink.GROUP, StopAfterTwoPauses())
    assert stats.messages == 0
    assert pauses == [1.0, 2.0]  # growing, as after a failed batch
    errors = [r for r in caplog.records if r.name == "apps.events.consumer"]
    assert len(errors) == 2 and "broker unavailable" in errors[0].getMessage()


def test_a_database_that_is_down_does_not_stop_the_relay_for_the_others(monkeypatch):
    from django.db import OperationalError

    from apps.events import relay

    passes = []

    class Stop:
        def is_set(self):
            return len(passes) >= 4

        def wait(self, seconds):
            pass

    def relay_pending(aliases, **kwargs):
        passes.append(aliases)
        if aliases == ["default"]:
            raise OperationalError("connection refused")
        return {aliases[0]: 1}

    monkeypatch.setattr(relay, "relay_pending", relay_pending)
    monkeypatch.setattr(relay, "_refresh_connections", lambda aliases: None)
    relay.run_forever(Stop(), interval=0, aliases=["default", "orders"])
    assert passes == [["default"], ["orders"], ["default"], ["orders"]]  # orders is served every turn


def test_consume_events_refuses_an_unknown_group():
    with pytest.raises(CommandError, match="no consumer group 'nobody'"):
        call_command("consume_events", "--group", "nobody")


def test_consume_events_refuses_a_group_this_process_does_not_serve(settings):
    settings.ECOMMERCE_SERVICES = ["catalog", "search"]
    with pytest.raises(CommandError, match="belongs to orders, not served here"):
        call_command("consume_events", "--group", sink.GROUP)


@pytest.fixture
def admin_client_(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="root@example.com", password="password123")
    client.force_login(user)
    return client


def test_admin_lists_outbox_rows_and_dead_letters_read_only(admin_client_, settings, emit):
    settings.EVENTS_TRANSPORT = "kafka"
    row = emit("a", 1)
    DeadLetter.objects.using(orders()).create(group=sink.GROUP, topic=sink.TOPIC, raw="{}", error="boom")
    page = admin_client_.get(f"/admin/events/outboxevent/?db={orders()}")
    assert page.status_code == 200 and str(row.aggregate_id) in page.content.decode()
    assert admin_client_.get(f"/admin/events/outboxevent/{row.pk}/change/?db={orders()}").status_code == 200
    assert admin_client_.get("/admin/events/outboxevent/add/").status_code == 403
    page = admin_client_.get(f"/admin/events/deadletter/?db={orders()}")
    assert page.status_code == 200 and "boom" in page.content.decode()


def dead_letters_to_retry(key, error="was down"):
    """Two dead letters of the sink: ``fixed`` (its handler now succeeds, ``key`` gets n=1) and
    ``still_bad`` (a poison message, fails again)."""
    good = {"id": str(uuid.uuid4()), "type": "THING_CREATED", "payload": {"key": key, "n": 1}}
    bad = {"id": str(uuid.uuid4()), "type": "POISON", "payload": {"key": key, "n": 2}}
    letters = DeadLetter.objects.using(orders())
    fixed = letters.create(group=sink.GROUP, topic=sink.TOPIC, event_id=good["id"], raw=json.dumps(good), error=error)
    still_bad = letters.create(
        group=sink.GROUP, topic=sink.TOPIC, event_id=bad["id"], raw=json.dumps(bad), error="poison"
    )
    return fixed, still_bad


def test_admin_retry_action_handles_a_dead_letter_once_its_cause_is_fixed(admin_client_):
    fixed, still_bad = dead_letters_to_retry("z")
    response = admin_client_.post(
        f"/admin/events/deadletter/?db={orders()}",
        {"action": "retry", "_selected_action": [fixed.pk, still_bad.pk]},
    )
    assert response.status_code == 302
    assert sink.by_key() == {"z": [1]}
    remaining = DeadLetter.objects.using(orders()).get()
    assert remaining.pk == still_bad.pk and remaining.attempts == 2 and "poison message" in remaining.error


@pytest.fixture
def unreachable_database():
    """The orders context's connection pointed at a database that cannot be opened (a closed
    port on PostgreSQL, a file in a missing directory on SQLite), for the duration of the test;
    the other aliases keep their connections."""
    import socket

    from django.db import connections

    alias = orders()
    original = connections[alias]
    broken = {**original.settings_dict}
    if original.vendor == "sqlite":
        broken["NAME"] = "/nonexistent-directory/unreachable.sqlite3"
    else:
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            broken["HOST"], broken["PORT"] = "127.0.0.1", probe.getsockname()[1]
    wrapper = original.__class__(broken, alias)
    connections[alias] = wrapper
    yield alias
    wrapper.close()
    connections[alias] = original


def test_readiness_names_the_database_that_is_down(client, unreachable_database):
    response = client.get("/health/ready")
    assert response.status_code == 503
    database = response.json()["checks"]["database"]
    assert database["status"] == "DOWN"
    assert database[unreachable_database].startswith("DOWN: OperationalError")
    assert unreachable_database in database["error"]
    assert all(database[alias] == "UP" for alias in routed_aliases() if alias != unreachable_database)
    outbox = response.json()["checks"]["outbox"]
    assert outbox["status"] == "DOWN" and "error" in outbox["databases"][unreachable_database]


def test_metrics_and_outbox_status_keep_reporting_when_a_database_is_down(client, emit, unreachable_database):
    response = client.get("/metrics")
    assert response.status_code == 200  # Prometheus keeps every other series
    body = response.content.decode()
    assert f'outbox_database_up{{database="{unreachable_database}"}} 0' in body
    for alias in context_aliases():
        if alias != unreachable_database:
            assert f'outbox_database_up{{database="{alias}"}} 1' in body
            assert f'outbox_backlog{{database="{alias}"}}' in body
    out = StringIO()
    with pytest.raises(CommandError, match=f"unreachable: {unreachable_database}"):
        call_command("outbox_status", stdout=out)
    assert "OperationalError" in out.getvalue()


def test_dead_letters_command_lists_and_retries_them(settings):
    fixed, still_bad = dead_letters_to_retry("y", error="was\ndown")
    event_id = fixed.event_id
    out = StringIO()
    call_command("dead_letters", stdout=out)
    assert f"{orders()}: 2 dead letter(s)" in out.getvalue()
    assert event_id in out.getvalue() and "was down" in out.getvalue()
    out = StringIO()
    call_command("dead_letters", "--json", "--database", orders(), stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {row["id"] for row in rows} == {fixed.pk, still_bad.pk} and json.loads(rows[0]["raw"])["payload"]
    if len(context_aliases()) > 1:  # ids are per database
        with pytest.raises(CommandError, match="--database"):
            call_command("dead_letters", "--retry", str(fixed.pk))
    with pytest.raises(CommandError, match="no dead letter 999999"):
        call_command("dead_letters", "--database", orders(), "--retry", "999999")
    out = StringIO()
    call_command("dead_letters", "--database", orders(), "--retry", str(fixed.pk), stdout=out)
    assert "1 handled and removed, 0 failed again" in out.getvalue()
    assert sink.by_key() == {"y": [1]}
    with pytest.raises(CommandError, match="1 dead letter"):  # exit status 1: still there
        call_command("dead_letters", "--retry-all", "--group", sink.GROUP, stdout=StringIO())
    remaining = DeadLetter.objects.using(orders()).get()
    assert remaining.pk == still_bad.pk and remaining.attempts == 2


def test_the_admin_database_filter_says_where_the_dead_letters_are(admin_client_):
    DeadLetter.objects.using(orders()).create(group=sink.GROUP, topic=sink.TOPIC, raw="{}", error="boom")
    page = admin_client_.get("/admin/events/deadletter/").content.decode()
    if orders() == "default":  # one database: listed without a filter
        assert "boom" in page
    else:  # the unfiltered list is the default database's, and says so; the orders choice counts
        assert "default (0 dead letters)" in page
        assert f"{orders()} (1 dead letters)" in page
        assert "boom" in admin_client_.get(f"/admin/events/deadletter/?db={orders()}").content.decode()
    outbox = admin_client_.get("/admin/events/outboxevent/")
    assert outbox.status_code == 200
