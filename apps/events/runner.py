"""Runs registered handlers for one message, idempotently, per consumer group."""

import json
import logging
import uuid

from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from apps.events.models import DeadLetter, ProcessedEvent
from apps.events.registry import Event, RetryLater, subscriptions
from ecommerce.db import alias_for
from ecommerce.sql import insert_rows

logger = logging.getLogger(__name__)

# Failures that say nothing about the message: it is retried later, never dead-lettered.
NOT_THE_MESSAGES_FAULT = (RetryLater, OperationalError, InterfaceError)


class BadMessage(ValueError):
    """A message that can never be handled (not JSON, not an envelope)."""


def parse_envelope(raw, topic=""):
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BadMessage(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise BadMessage("envelope is not an object")
    missing = [k for k in ("id", "type", "payload") if k not in raw]
    if missing:
        raise BadMessage(f"envelope lacks {', '.join(missing)}")
    if not isinstance(raw["payload"], dict):
        raise BadMessage("payload is not an object")
    return Event(
        id=str(raw["id"]),
        type=str(raw["type"]),
        payload=raw["payload"],
        timestamp=str(raw.get("timestamp", "")),
        source_service=str(raw.get("sourceService", "")),
        topic=topic,
    )


def _uuid_text(value):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


class Processed:
    """Which event ids of a batch a group had already handled, per database of the group."""

    def __init__(self, checked, handled):
        self.checked = checked
        self.handled = handled

    def status(self, alias, event_id):
        """``None`` (not checked: ask), ``True`` (handled before) or ``False`` (new)."""
        event_id = _uuid_text(event_id)
        if event_id is None or event_id not in self.checked:
            return None
        return event_id in self.handled.get(alias, ())

    def mark(self, alias, event_id):
        """Handled now: a copy later in the same batch is skipped like a redelivery."""
        event_id = _uuid_text(event_id)
        if event_id is not None and event_id in self.checked:
            self.handled.setdefault(alias, set()).add(event_id)


def processed_ids(group, event_ids):
    """``Processed`` for ``event_ids``: one query per database of the group, so a consumer asks
    once per batch instead of once per message."""
    checked = {text for text in map(_uuid_text, event_ids) if text}
    handled = {}
    if checked:
        for alias in sorted({alias_for(s.context) for s in subscriptions(group=group)}):
            rows = ProcessedEvent.objects.using(alias).filter(group=group, event_id__in=checked)
            handled[alias] = {str(event_id) for event_id in rows.values_list("event_id", flat=True)}
    return Processed(checked, handled)


def handle(subscription, event, *, known_new=False):
    """Apply one event for one subscription; returns False if this group had already handled it.

    ``known_new``: the caller has just checked (``processed_ids``) that the group has not handled
    it, so the check is not repeated; the unique (group, event id) row still refuses a duplicate.
    """
    alias = alias_for(subscription.context)
    try:
        with transaction.atomic(using=alias):
            if (
                not known_new
                and ProcessedEvent.objects.using(alias).filter(group=subscription.group, event_id=event.id).exists()
            ):
                return False
            subscription.handler(event)
            # Every consumer writes one of these per event: without the ORM's insert compiler.
            insert_rows([ProcessedEvent(group=subscription.group, event_id=event.id)], alias)
    except IntegrityError:
        # Another worker of the same group recorded it first: its effect stands, ours rolled back.
        if ProcessedEvent.objects.using(alias).filter(group=subscription.group, event_id=event.id).exists():
            return False
        raise
    return True


def dead_letter(subscription_or_group, topic, raw, error, event_id="", attempts=1):
    group = getattr(subscription_or_group, "group", subscription_or_group)
    context = getattr(subscription_or_group, "context", None)
    alias = alias_for(context) if context else "default"
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", errors="replace")
    elif not isinstance(raw, str):
        raw = json.dumps(raw, default=str)
    error = str(error)
    logger.error("dead-lettered message", extra={"group": group, "topic": topic, "error": error})
    # PostgreSQL text cannot hold NUL characters; a poison message may well contain some.
    DeadLetter.objects.using(alias).create(
        group=group,
        topic=topic,
        event_id=event_id[:100].replace("\x00", ""),
        raw=raw.replace("\x00", "\\u0000"),
        error=error[:10000].replace("\x00", "\\u0000"),
        attempts=attempts,
    )


def deliver(topic, raw, groups=None, attempts=3, processed=None):
    """Hand one message to every subscription of ``topic`` (optionally only some groups).

    A handler that keeps failing sends the message to the dead-letter table and the others go on.
    A failure that is not the message's fault (``NOT_THE_MESSAGES_FAULT``: a server down) is
    raised to the caller instead, which keeps the message for a later attempt.
    ``processed``: ``processed_ids`` of the message's batch, when the caller fetched it.
    """
    subs = [s for s in subscriptions(topic=topic) if groups is None or s.group in groups]
    if not subs:
        return
    try:
        event = parse_envelope(raw, topic)
    except BadMessage as exc:
        for sub in subs:
            dead_letter(sub, topic, raw, exc)
        return
    for sub in subs:
        status = processed.status(alias_for(sub.context), event.id) if processed is not None else None
        if status is True:
            continue  # handled before (a redelivery, or a copy earlier in this batch)
        last_error = None
        for _ in range(attempts):
            try:
                handle(sub, event, known_new=status is False)
                last_error = None
                if processed is not None:
                    processed.mark(alias_for(sub.context), event.id)
                break
            except NOT_THE_MESSAGES_FAULT:
                raise
            except Exception as exc:  # noqa: BLE001 - a handler's failure must not stop the consumer
                last_error = exc
                logger.warning("handler failed", extra={"group": sub.group, "event_id": event.id, "error": str(exc)})
        if last_error is not None:
            dead_letter(sub, topic, raw, repr(last_error), event_id=event.id, attempts=attempts)
