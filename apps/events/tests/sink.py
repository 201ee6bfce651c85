"""A test-only consumer: group "test-sink" on topic "events_test", recording what it handled.

It stands in for a real context's consumer so these tests depend on no other app. Its effect
is an entry in ``HANDLED`` (an in-memory list); the runner records the event id in the database.
"""

import threading

from apps.events.registry import Event, consumer

TOPIC = "events_test"
GROUP = "test-sink"
HANDLED = []
_lock = threading.Lock()


@consumer(topic=TOPIC, group=GROUP, context="orders", service="orders")
def sink(event: Event):
    if event.type == "POISON":
        raise RuntimeError("poison message")
    if event.type not in ("THING_CREATED", "THING_UPDATED"):
        raise ValueError(f"unknown event type {event.type}")
    with _lock:
        HANDLED.append((event.payload["key"], event.payload["n"], event.id))


def handled_ids():
    return [entry[2] for entry in HANDLED]


def by_key():
    result = {}
    for key, n, _ in HANDLED:
        result.setdefault(key, []).append(n)
    return result
