"""Outbox status (backlog, age of the oldest unpublished row) and pruning, per context database."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone

from apps.events.models import DeadLetter, OutboxEvent, ProcessedEvent
from apps.events.registry import subscriptions
from apps.events.runner import BadMessage, handle, parse_envelope
from ecommerce.db import context_aliases, routed_aliases
from ecommerce.health import CheckFailed


def outbox_status(aliases=None):
    """``{alias: {backlog, failing, oldestUnpublishedAgeSeconds, deadLetters}}``, or
    ``{alias: {"error": ...}}`` for a database that cannot be read: one database down must not
    hide the others' backlogs (the readiness report, the metrics and the command show both).

    Two aggregate queries per database, whatever the table sizes (the partial index on
    unpublished rows serves the first).
    """
    report = {}
    for alias in aliases or context_aliases():
        try:
            report[alias] = _database_status(alias)
        except DatabaseError as exc:
            report[alias] = {"error": f"{type(exc).__name__}: {exc}"}
    return report


def unreachable(report):
    """The aliases of an ``outbox_status`` report that could not be read."""
    return [alias for alias, stats in report.items() if "error" in stats]


def _database_status(alias):
    now = timezone.now()
    pending = OutboxEvent.objects.using(alias).filter(published_at__isnull=True)
    stats = pending.aggregate(
        backlog=Count("id"), failing=Count("id", filter=Q(attempts__gt=0)), oldest=Min("created_at")
    )
    oldest = stats["oldest"]
    return {
        "backlog": stats["backlog"],
        "failing": stats["failing"],
        "oldestUnpublishedAgeSeconds": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        "deadLetters": DeadLetter.objects.using(alias).count(),
    }


def metrics():
    """Provider for ``ecommerce.health.register_metrics``."""
    rows = []
    for alias, stats in outbox_status().items():
        labels = {"database": alias}
        rows.append(
            (
                "outbox_database_up",
                "1 if the outbox status of the database could be read",
                int("error" not in stats),
                labels,
            )
        )
        if "error" in stats:
            continue
        rows += [
            ("outbox_backlog", "Unpublished outbox rows", stats["backlog"], labels),
            ("outbox_failing", "Unpublished outbox rows that failed at least once", stats["failing"], labels),
            (
                "outbox_oldest_unpublished_age_seconds",
                "Age of the oldest unpublished outbox row",
                stats["oldestUnpublishedAgeSeconds"],
                labels,
            ),
            ("events_dead_letters", "Messages a consumer gave up on", stats["deadLetters"], labels),
        ]
    return rows


def outbox_check():
    """Readiness detail: the backlog is reported, it does not make the service unready (writes
    keep succeeding while the broker is away; that is the outbox's point). Only the databases the
    contexts are routed to: in the split shape ``default``'s outbox is never written."""
    report = outbox_status(routed_aliases())
    down = unreachable(report)
    if down:
        raise CheckFailed(f"outbox unreadable: {', '.join(down)}", {"databases": report})
    return {"databases": report}


def broker_check():
    from apps.events.kafka import broker_status

    return {"transport": "kafka", **broker_status()}


def _delete_in_chunks(query, chunk=5000):
    deleted = 0
    while True:
        ids = list(query.values_list("pk", flat=True)[:chunk])
        if not ids:
            return deleted
        deleted += query.model.objects.using(query.db).filter(pk__in=ids).delete()[0]


def prune(aliases=None, retention_hours=None, inbox_retention_hours=None):
    """Delete published outbox rows older than the retention, and old inbox records.

    Returns ``{alias: {"outbox": n, "inbox": m}}``. Unpublished rows are never deleted.
    """
    now = timezone.now()
    hours = settings.OUTBOX_RETENTION_HOURS if retention_hours is None else retention_hours
    inbox_hours = settings.EVENTS_INBOX_RETENTION_HOURS if inbox_retention_hours is None else inbox_retention_hours
    result = {}
    for alias in aliases or context_aliases():
        outbox = OutboxEvent.objects.using(alias).filter(
            published_at__isnull=False, published_at__lt=now - timedelta(hours=hours)
        )
        inbox = ProcessedEvent.objects.using(alias).filter(processed_at__lt=now - timedelta(hours=inbox_hours))
        result[alias] = {"outbox": _delete_in_chunks(outbox), "inbox": _delete_in_chunks(inbox)}
    return result


def retry_dead_letter(letter):
    """Run the dead letter's group handlers again; returns None on success, else the error."""
    try:
        event = parse_envelope(letter.raw, letter.topic)
    except BadMessage as exc:
        return f"cannot retry: {exc}"
    subs = subscriptions(topic=letter.topic, group=letter.group)
    if not subs:
        return f"no consumer registered for group {letter.group!r} on {letter.topic!r}"
    try:
        for sub in subs:
            handle(sub, event)
    except Exception as exc:  # noqa: BLE001 - reported to the operator, the letter stays
        return repr(exc)
    return None


def retry_dead_letters(alias, letters):
    """Retry each letter (rows of ``alias``): a handled one is deleted, a failing one keeps its
    new error and one more attempt. Returns ``(handled, failed)`` counts. The admin's "retry"
    action and ``manage.py dead_letters --retry`` both come here."""
    handled, failed = 0, 0
    for letter in letters:
        error = retry_dead_letter(letter)
        if error is None:
            DeadLetter.objects.using(alias).filter(pk=letter.pk).delete()
            handled += 1
        else:
            DeadLetter.objects.using(alias).filter(pk=letter.pk).update(
                error=error[:10000], attempts=letter.attempts + 1
            )
            failed += 1
    return handled, failed
