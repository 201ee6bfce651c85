"""Transports. ``inline`` (embedded default): right after commit, pending outbox rows are handed
to the in-process consumers and marked published, so a fresh clone needs no broker."""

import logging

from django.db import transaction
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.events.runner import deliver

logger = logging.getLogger(__name__)


def deliver_inline(using, batch_size=500):
    while True:
        with transaction.atomic(using=using):
            rows = list(
                OutboxEvent.objects.using(using)
                .select_for_update(skip_locked=True)
                .filter(published_at__isnull=True)
                .order_by("id")[:batch_size]
            )
            for row in rows:
                deliver(row.topic, row.envelope())
            OutboxEvent.objects.using(using).filter(pk__in=[r.pk for r in rows]).update(
                published_at=timezone.now(), attempts=1
            )
        if len(rows) < batch_size:
            return
