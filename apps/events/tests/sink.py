"""A test-only consumer: group "test-sink" on topic "events_test", recording what it handled.

It stands in for a real context's consumer so these tests depend on no other app. Its effect
is an entry in ``HANDLED`` (an in-memory list); the runner records the event id in the database.
"""

import threading

from apps.events.registry import Event, RetryLater, consumer

TOPIC = "events_test"
GROUP = "test-sink"
HANDLED = []
# How many more times a "NEEDS_SERVER" event finds its (imaginary) server down.
SERVER_DOWN_FOR = {"attempts": 0}
_lock = threading.Lock()


@consumer(topic=TOPIC, group=GROUP, context="orders", service="orders")
def sink(event: Event):
    if event.type == "POISON":
        raise RuntimeError("poison message")
    if event.type == "NEEDS_SERVER":
        with _lock:
            down = SERVER_DOWN_FOR["attempts"] > 0
            SERVER_DOWN_FOR["attempts"] -= 1
        if down:
            raise RetryLater("the server this handler writes to is down")
    if event.type not in ("THING_CREATED", "THING_UPDATED", "NEEDS_SERVER"):
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
