"""The one call apps use to emit an event: ``publish(...)`` inside their write transaction."""

from django.conf import settings
from django.db import connections, transaction

from apps.events.models import OutboxEvent
from ecommerce.sql import insert_rows


def topic_name(topic):
    return f"{settings.EVENTS_TOPIC_PREFIX}{topic}"


def publish(topic, event_type, aggregate_id, payload, *, using, aggregate_type=""):
    """Write an event to the outbox of database ``using``, in the caller's transaction.

    Nothing leaves the process here: the relay publishes the row once the transaction commits
    (inline transport: right after commit, in-process; kafka: the relay task/command).
    """
    (event,) = publish_many(topic, event_type, [(aggregate_id, payload)], using=using, aggregate_type=aggregate_type)
    return event


def publish_many(topic, event_type, events, *, using, aggregate_type=""):
    """``publish`` for several ``(aggregate_id, payload)`` at once: one INSERT, rows (hence
    events) in the order given."""
    if not connections[using].in_atomic_block:
        raise RuntimeError("publish() must be called inside transaction.atomic() with the change it describes")
    # Without the ORM's insert compiler (ecommerce/sql.py): every checkout writes two events.
    rows = insert_rows(
        [
            OutboxEvent(
                topic=topic,
                event_type=event_type,
                aggregate_type=aggregate_type,
                aggregate_id=str(aggregate_id),
                payload=payload,
                source_service=settings.EVENTS_SOURCE_SERVICE,
            )
            for aggregate_id, payload in events
        ],
        using,
    )
    if rows and settings.EVENTS_TRANSPORT == "inline":
        from apps.events.transports import deliver_inline_after_commit

        transaction.on_commit(lambda: deliver_inline_after_commit(using), using=using, robust=True)
    return rows
