"""Celery periodic tasks: the relay (short, frequent) and the pruning (hourly).

Several beat ticks or workers may run the relay at once: the row locks keep them apart.
"""

from celery import shared_task

from apps.events import maintenance, relay


@shared_task(name="events.relay_outbox", ignore_result=True)
def relay_outbox_task(max_batches=20):
    """One bounded pass over every context database (the long-running command is the low-latency path)."""
    return relay.relay_pending(max_batches=max_batches)


@shared_task(name="events.prune_outbox", ignore_result=True)
def prune_outbox_task():
    return maintenance.prune()


def beat_schedule(relay_seconds):
    return {
        "events-relay-outbox": {
            "task": "events.relay_outbox",
            "schedule": relay_seconds,
            "options": {"expires": max(relay_seconds * 5, 5)},
        },
        "events-prune-outbox": {"task": "events.prune_outbox", "schedule": 3600.0},
    }
