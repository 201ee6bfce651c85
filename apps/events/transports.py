"""Transports. ``inline`` (embedded default): right after commit, pending outbox rows are handed
to the in-process consumers and marked published, so a fresh clone needs no broker.

``kafka``: nothing happens at commit; the relay (``apps/events/relay.py``) publishes the rows.

The inline delivery runs after the request's transaction has committed: whatever happens in it
(a handler raising, even a database error) is logged, never raised into the request. A handler
failure is dead-lettered by the runner; a row whose hand-over itself failed stays unpublished with
its error and backoff, and the next delivery or ``manage.py relay_outbox`` picks it up again.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.events.runner import deliver

logger = logging.getLogger(__name__)


def deliver_inline(using, batch_size=500):
    """Hand every due unpublished row of ``using`` to the in-process consumers; returns how many."""
    from apps.events.relay import backoff_seconds

    delivered = 0
    while True:
        with transaction.atomic(using=using):
            now = timezone.now()
            rows = list(
                OutboxEvent.objects.using(using)
                .select_for_update(skip_locked=True)
                .filter(published_at__isnull=True)
                .exclude(next_attempt_at__gt=now)
                .order_by("id")[:batch_size]
            )
            done, failed = [], []
            for row in rows:
                try:
                    with transaction.atomic(using=using):
                        deliver(row.topic, row.envelope())
                    done.append(row.pk)
                except Exception as exc:  # noqa: BLE001 - keep the row for a later retry, go on
                    logger.exception("inline delivery failed", extra={"event_id": str(row.event_id)})
                    row.attempts += 1
                    row.last_error = repr(exc)[:2000]
                    row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
                    failed.append(row)
            if done:
                OutboxEvent.objects.using(using).filter(pk__in=done).update(published_at=timezone.now(), attempts=1)
            if failed:
                OutboxEvent.objects.using(using).bulk_update(failed, ["attempts", "last_error", "next_attempt_at"])
        delivered += len(done)
        if len(rows) < batch_size or not done:
            return delivered


def deliver_inline_after_commit(using):
    """The ``on_commit`` callback: never lets an exception reach the request that committed."""
    try:
        deliver_inline(using)
    except Exception:  # noqa: BLE001 - the change is committed; the row stays for the relay
        logger.exception("inline event delivery failed after commit", extra={"database": using})
