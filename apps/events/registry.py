"""Consumers: apps register handlers for a topic under a consumer group.

A handler receives an ``Event`` and runs inside a transaction on its context's database; the
runner records the event id in the same transaction, so a redelivered event is skipped.
"""

from dataclasses import dataclass


class RetryLater(Exception):  # noqa: N818 - reads as what the consumer must do
    """Raised by a handler that cannot work now for a reason outside the message (a server it
    writes to is down): the message is not poison. The consumer rolls its batch back, commits no
    offset and tries again after a pause; nothing is dead-lettered, so nothing is lost."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    payload: dict
    timestamp: str
    source_service: str
    topic: str = ""


@dataclass
class Subscription:
    group: str
    topic: str
    context: str
    handler: object
    service: str = ""


_subscriptions: list = []


def consumer(*, topic, group, context, service=""):
    """Decorator: ``@consumer(topic="product_events", group="search", context="search")``.

    ``service`` is the app serving this consumer in split mode (defaults to ``context``).
    """

    def register(handler):
        _subscriptions.append(Subscription(group, topic, context, handler, service or context))
        return handler

    return register


def subscriptions(topic=None, group=None):
    return [s for s in _subscriptions if (topic is None or s.topic == topic) and (group is None or s.group == group)]
