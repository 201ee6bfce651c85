"""Runs registered handlers for one message, idempotently, per consumer group."""

import json
import logging

from django.db import IntegrityError, transaction

from apps.events.models import DeadLetter, ProcessedEvent
from apps.events.registry import Event, subscriptions
from ecommerce.db import alias_for

logger = logging.getLogger(__name__)


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


def handle(subscription, event):
    """Apply one event for one subscription; returns False if this group had already handled it."""
    alias = alias_for(subscription.context)
    try:
        with transaction.atomic(using=alias):
            if ProcessedEvent.objects.using(alias).filter(group=subscription.group, event_id=event.id).exists():
                return False
            subscription.handler(event)
            ProcessedEvent.objects.using(alias).create(group=subscription.group, event_id=event.id)
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


def deliver(topic, raw, groups=None, attempts=3):
    """Hand one message to every subscription of ``topic`` (optionally only some groups).

    A handler that keeps failing sends the message to the dead-letter table and the others go on.
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
        last_error = None
        for _ in range(attempts):
            try:
                handle(sub, event)
                last_error = None
                break
            except Exception as exc:  # noqa: BLE001 - a handler's failure must not stop the consumer
                last_error = exc
                logger.warning("handler failed", extra={"group": sub.group, "event_id": event.id, "error": str(exc)})
        if last_error is not None:
            dead_letter(sub, topic, raw, repr(last_error), event_id=event.id, attempts=attempts)
