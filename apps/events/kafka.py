"""confluent-kafka clients, configured in one place so producer and consumer agree on topic names.

The topic prefix (``EVENTS_TOPIC_PREFIX``) is applied here and nowhere else: ``wire_topic`` on the
way out, ``logical_topic`` on the way in.
"""

import logging
import threading

from django.conf import settings

from apps.events.outbox import topic_name

# librdkafka's own messages (connection refused, …) go to Python logging, not raw stderr.
kafka_logger = logging.getLogger("apps.events.kafka.client")
_producers = {}
_lock = threading.Lock()


def wire_topic(topic):
    return topic_name(topic)


def logical_topic(wire_name):
    prefix = settings.EVENTS_TOPIC_PREFIX
    return wire_name[len(prefix) :] if prefix and wire_name.startswith(prefix) else wire_name


def producer_config(bootstrap=None):
    timeout = settings.KAFKA_DELIVERY_TIMEOUT_MS
    return {
        "bootstrap.servers": bootstrap or settings.KAFKA_BOOTSTRAP_SERVERS,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "compression.type": "lz4",
        # A message gets its delivery report (success or error) within this time, so a relay
        # never waits on a silent broker for ever and never marks a row it has no report for.
        "message.timeout.ms": timeout,
        "socket.timeout.ms": min(timeout, 10000),
        "client.id": f"{settings.EVENTS_SOURCE_SERVICE}-relay",
        "logger": kafka_logger,
    }


def get_producer(bootstrap=None):
    """One idempotent producer per process and bootstrap list (producers are thread-safe)."""
    from confluent_kafka import Producer

    config = producer_config(bootstrap)
    key = (config["bootstrap.servers"], config["message.timeout.ms"])
    with _lock:
        if key not in _producers:
            _producers[key] = Producer(config)
        return _producers[key]


def discard_producer(producer):
    """Forget a producer after a broker outage: the next ``get_producer`` builds a fresh one.
    An idempotent producer whose messages timed out can stay fenced by the broker for good
    (PRODUCER_FENCED on every later send) until the process restarts."""
    with _lock:
        for key, cached in list(_producers.items()):
            if cached is producer:
                del _producers[key]


def close_producers(timeout=5.0):
    """Flush and forget the cached producers (tests, shutdown)."""
    with _lock:
        producers = list(_producers.values())
        _producers.clear()
    for producer in producers:
        producer.flush(timeout)


def consumer_config(group, bootstrap=None):
    return {
        "bootstrap.servers": bootstrap or settings.KAFKA_BOOTSTRAP_SERVERS,
        "group.id": f"{settings.EVENTS_TOPIC_PREFIX}{group}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": settings.KAFKA_SESSION_TIMEOUT_MS,
        # Latency over batching: the broker answers a fetch after at most 50 ms.
        "fetch.wait.max.ms": 50,
        "allow.auto.create.topics": True,
        "client.id": f"{settings.EVENTS_SOURCE_SERVICE}-{group}",
        "logger": kafka_logger,
    }


def ensure_topics(topics, bootstrap=None, timeout=10.0):
    """Create the wire topics if they do not exist yet (a consumer may start before any producer)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap or settings.KAFKA_BOOTSTRAP_SERVERS, "logger": kafka_logger})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [wire_topic(t) for t in topics if wire_topic(t) not in existing]
    if not wanted:
        return []
    futures = admin.create_topics([NewTopic(t, num_partitions=4, replication_factor=1) for t in wanted])
    for future in futures.values():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return wanted


_admins = {}


def broker_status(bootstrap=None, timeout=1.5):
    """Readiness probe: the broker answers a metadata request within ``timeout``."""
    from confluent_kafka.admin import AdminClient

    servers = bootstrap or settings.KAFKA_BOOTSTRAP_SERVERS
    with _lock:
        if servers not in _admins:
            _admins[servers] = AdminClient({"bootstrap.servers": servers, "logger": kafka_logger})
        admin = _admins[servers]
    metadata = admin.list_topics(timeout=timeout)
    return {"brokers": len(metadata.brokers)}
