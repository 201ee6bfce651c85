"""Outbox (what a context has to say) and inbox (what a consumer group has already handled).

These tables exist in every context database: each context writes its events in the same
transaction as its change, and each consumer records what it handled beside its effect.
"""

import uuid

from django.db import models


class EventPayloadField(models.JSONField):
    """A JSON document that bulk inserts send as one parameter per row.

    Django 5.2 sends the values of a multi-row insert to PostgreSQL as one array per column
    (``UNNEST``). psycopg builds an array literal in Python and escapes every quote of every
    JSON document with a regular expression: about 0.8 ms per product document. That doubled the
    cost of a checkout's two-event insert, and made up most of a category rename's 17k events.
    A field with a placeholder keeps Django's plain ``VALUES`` rows for the table."""

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class OutboxEvent(models.Model):
    # The auto-increment id orders rows, hence events of one aggregate, in commit order.
    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=100, blank=True, default="")
    aggregate_id = models.CharField(max_length=100)
    payload = EventPayloadField()
    source_service = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], name="outbox_unpublished_idx", condition=models.Q(published_at__isnull=True)),
            models.Index(fields=["published_at"], name="outbox_published_at_idx"),
            # The relay's per-aggregate ordering checks look up unpublished rows by aggregate.
            models.Index(
                fields=["aggregate_id", "id"],
                name="outbox_unpub_aggregate_idx",
                condition=models.Q(published_at__isnull=True),
            ),
            # Rows waiting for a retry (few): the claim skips their aggregates' later rows.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_retry_wait_idx",
                condition=models.Q(published_at__isnull=True, next_attempt_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.aggregate_id}"

    def envelope(self):
        return {
            "id": str(self.event_id),
            "type": self.event_type,
            "payload": self.payload,
            "timestamp": self.created_at.isoformat().replace("+00:00", "Z"),
            "sourceService": self.source_service,
        }


class ProcessedEvent(models.Model):
    """One row per (consumer group, event id), written in the transaction of the effect."""

    group = models.CharField(max_length=100)
    event_id = models.UUIDField()
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "event_id"], name="processed_event_once")]
        indexes = [models.Index(fields=["processed_at"], name="processed_event_at_idx")]


class DeadLetter(models.Model):
    """A message a consumer could not handle, kept with its error so the consumer can go on."""

    group = models.CharField(max_length=100)
    topic = models.CharField(max_length=100)
    event_id = models.CharField(max_length=100, blank=True, default="")
    raw = models.TextField()
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
