"""Shared fixtures and the service tiers.

Tests that need a server are marked (postgres, redis, kafka, elasticsearch). Where the server is
not configured they are skipped on a developer's machine, and fail under CI=true: a missing
service never passes silently in CI.
"""

import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _service_problem(marker):
    if marker == "postgres":
        engines = {settings.DATABASES[a]["ENGINE"] for a in settings.DATABASES}
        if not all("postgresql" in e for e in engines):
            return "DATABASE_URL does not point at PostgreSQL"
    elif marker == "redis":
        if not settings.REDIS_URL:
            return "REDIS_URL is not set"
        url = urlparse(settings.REDIS_URL)
        if not _reachable(url.hostname or "127.0.0.1", url.port or 6379):
            return f"Redis at {settings.REDIS_URL} is unreachable"
    elif marker == "kafka":
        if os.environ.get("KAFKA_TESTS", "") != "1":
            return "KAFKA_TESTS=1 is not set"
        host, _, port = settings.KAFKA_BOOTSTRAP_SERVERS.split(",")[0].rpartition(":")
        if not _reachable(host, port):
            return f"no broker at {settings.KAFKA_BOOTSTRAP_SERVERS}"
    elif marker == "elasticsearch":
        if os.environ.get("ELASTICSEARCH_TESTS", "") != "1":
            return "ELASTICSEARCH_TESTS=1 is not set"
        url = urlparse(settings.ELASTICSEARCH_URL)
        if not _reachable(url.hostname, url.port or 9200):
            return f"no Elasticsearch at {settings.ELASTICSEARCH_URL}"
    elif marker == "real_elasticsearch":
        if os.environ.get("REAL_ELASTICSEARCH_TESTS", "") != "1":
            return "REAL_ELASTICSEARCH_TESTS=1 is not set (compose / Jenkins run these)"
    return None


def _context_databases():
    """The distinct databases (not their mirrors: a mirror is another connection to the same data)."""
    from ecommerce.db import context_aliases

    return context_aliases()


SERVICE_MARKERS = ("postgres", "redis", "kafka", "elasticsearch", "real_elasticsearch")


def pytest_collection_modifyitems(config, items):
    for item in items:
        # Every database test may touch every context database (they differ in the split shape).
        marker = item.get_closest_marker("django_db")
        wants_db = marker is not None or {"db", "transactional_db"} & set(item.fixturenames)
        if wants_db and (marker is None or "databases" not in marker.kwargs):
            kwargs = dict(marker.kwargs) if marker else {}
            if "transactional_db" in item.fixturenames:
                kwargs["transaction"] = True
            kwargs["databases"] = _context_databases()
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


def pytest_runtest_setup(item):
    for name in SERVICE_MARKERS:
        if item.get_closest_marker(name):
            problem = _service_problem(name)
            if problem:
                if CI and name != "real_elasticsearch":
                    pytest.fail(f"needs {name}: {problem} (CI=true: a missing service is a failure)")
                pytest.skip(f"needs {name}: {problem}")


@pytest.fixture(autouse=True)
def _isolated_caches(settings, tmp_path):
    """Each test starts with empty caches (throttle counters, carts)."""
    from django.core.cache import caches

    for alias in settings.CACHES:
        try:
            caches[alias].clear()
        except Exception:  # noqa: BLE001 - a test about an unreachable cache must still run
            pass
    yield


@pytest.fixture(autouse=True)
def _fast_password_hasher(request, settings):
    """Argon2 costs up to a second a hash on a busy 2-core machine; tests that are not about
    hashing use a fast one. Tests that ask for ``real_hashers`` keep the configured Argon2."""
    if "real_hashers" not in request.fixturenames:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def real_hashers():
    return True


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def make_user(db):
    """``make_user(role="Customer", email=..., password=..., **fields)`` → a saved user."""
    from django.contrib.auth import get_user_model

    counter = {"n": 0}

    def make(role="Customer", email=None, password="password123", **fields):
        counter["n"] += 1
        user_model = get_user_model()
        role_obj = user_model._meta.get_field("role").related_model.objects.get(name=role)
        return user_model.objects.create_user(
            email=email or f"user{counter['n']}-{role.lower()}@example.com",
            password=password,
            name=fields.pop("name", f"User {counter['n']}"),
            role=role_obj,
            **fields,
        )

    return make


@pytest.fixture
def token_for():
    """``token_for(user)`` → an access token with the contract's claims."""
    from apps.auth.tokens import access_token_for

    return access_token_for


@pytest.fixture
def client_as(make_user, token_for):
    """``client_as("ADMIN")`` → (APIClient with a Bearer token, user)."""
    from rest_framework.test import APIClient

    def make(role="Customer", **fields):
        user = make_user(role=role, **fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
        return client, user

    return make
