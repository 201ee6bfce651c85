import pytest
from django.db import connections

from ecommerce.db import alias_for


@pytest.fixture
def auth_queries(django_assert_num_queries):
    """``with auth_queries(n):`` counts the queries on the identity context's connection."""

    def count(n):
        return django_assert_num_queries(n, connection=connections[alias_for("auth")])

    return count


@pytest.fixture
def outbox():
    """The identity context's outbox rows, oldest first."""
    from apps.events.models import OutboxEvent

    def rows(**filters):
        return list(OutboxEvent.objects.using(alias_for("auth")).filter(topic="auth_events", **filters).order_by("id"))

    return rows


@pytest.fixture
def role_id():
    from apps.auth.models import Role

    def get(name):
        return str(Role.objects.get(name=name).pk)

    return get
