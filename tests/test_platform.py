"""Project wiring: error shapes, health, request ids, database routing."""

import json
import os

import pytest
from django.conf import settings

from ecommerce.db import alias_for, context_aliases, is_split, routed_aliases

pytestmark = pytest.mark.django_db


def test_unknown_route_is_a_json_404(client):
    response = client.get("/nowhere/at/all")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "not found" in response.json()["message"]


def test_the_gateway_root_says_it_is_online_without_touching_a_database(client):
    from contextlib import ExitStack

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with ExitStack() as stack:
        captured = [stack.enter_context(CaptureQueriesContext(connections[a])) for a in set(context_aliases())]
        response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"message": "API Gateway online"}  # original-api.md section 0
    assert [q for c in captured for q in c.captured_queries] == []


def test_liveness(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "UP"


def test_each_prefix_has_its_health(client):
    for prefix in ("auth", "products", "images", "carts", "search", "orders"):
        assert client.get(f"/{prefix}/health").json()["status"] == "UP", prefix


def test_readiness_reports_each_dependency(client):
    body = client.get("/health/ready").json()
    assert body["status"] == "UP"
    assert set(body["checks"]["database"]) == {"status", "ms", *routed_aliases()}
    assert body["checks"]["cache"]["status"] == "UP"


def test_readiness_is_503_naming_the_failed_dependency(client, monkeypatch):
    from ecommerce import health

    def broken():
        raise ConnectionError("connection refused")

    monkeypatch.setitem(health._checks, "database", broken)
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "DOWN"
    assert body["checks"]["database"]["status"] == "DOWN"
    assert "connection refused" in body["checks"]["database"]["error"]


@pytest.fixture
def default_database_down():
    """The ``default`` connection pointed at a port nothing listens on (PostgreSQL) or a file in
    a missing directory (SQLite) for the test; the context aliases keep their connections."""
    import socket

    from django.db import connections

    original = connections["default"]
    broken = {**original.settings_dict}
    if original.vendor == "sqlite":
        broken["NAME"] = "/nonexistent-directory/unreachable.sqlite3"
    else:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            broken["HOST"], broken["PORT"] = "127.0.0.1", probe.getsockname()[1]
    wrapper = original.__class__(broken, "default")
    connections["default"] = wrapper
    yield
    wrapper.close()
    connections["default"] = original


def test_readiness_ignores_the_default_database_when_no_context_uses_it(client, default_database_down):
    """Split shape: every context has its own database and ``default`` holds none of their data,
    so a ``default`` that is down must not take the process out of the load balancer."""
    if "default" in routed_aliases():
        pytest.skip("a context is routed to default (shared shape): readiness depends on it")
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "UP" and "default" not in checks["database"]
    assert set(checks["database"]) >= {"status", *routed_aliases()}
    assert checks["outbox"]["status"] == "UP" and "default" not in checks["outbox"]["databases"]


def test_readiness_depends_on_the_default_database_when_a_context_uses_it(client, default_database_down):
    if "default" not in routed_aliases():
        pytest.skip("no context is routed to default (split shape)")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["default"].startswith("DOWN: ")


def test_an_optional_dependency_degrades_readiness_without_failing_it(client, monkeypatch):
    from ecommerce import health

    def broken():
        raise ConnectionError("search cluster away")

    monkeypatch.setattr(health, "_checks", {**health._checks})
    monkeypatch.setattr(health, "_optional", set(health._optional))
    health.register_check("search", broken, critical=False)
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "DEGRADED"
    assert response.json()["checks"]["search"] == {
        **response.json()["checks"]["search"],
        "status": "DOWN",
        "critical": False,
    }


def test_request_id_is_echoed_or_made(client):
    assert client.get("/health", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    made = client.get("/health")["X-Request-ID"]
    assert len(made) == 32
    # A header that could forge log lines is replaced, not echoed.
    assert client.get("/health", HTTP_X_REQUEST_ID="bad\nid")["X-Request-ID"] != "bad\nid"


def test_openapi_schema_and_docs(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    # The contract's paths, once each: no trailing-slash twins, no colliding operation ids.
    assert {"/orders", "/products", "/carts"} <= set(document["paths"])
    assert not {"/orders/", "/products/", "/carts/"} & set(document["paths"])
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values() if "operationId" in op]
    assert len(ids) == len(set(ids)) and not any(i[-1].isdigit() for i in ids), sorted(ids)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page.split("<body")[0]  # served by us, works offline


def test_router_keeps_each_context_in_its_alias():
    from django.apps import apps

    from ecommerce.db import ContextRouter

    router = ContextRouter()
    user_model = apps.get_model("accounts", "User")
    assert router.db_for_write(user_model) == alias_for("auth")
    log_entry = apps.get_model("admin", "LogEntry")
    content_type = apps.get_model("contenttypes", "ContentType")
    # The admin log and its foreign keys live in one database, whatever the shape.
    assert router.db_for_write(log_entry) == router.db_for_write(user_model) == router.db_for_write(content_type)
    for alias in context_aliases():
        assert router.allow_migrate(alias, "events", model_name="outboxevent")


def test_shape_matches_environment():
    urls = {settings.DATABASES[c]["NAME"] for c in ("auth", "catalog", "orders", "search")}
    if is_split():
        assert len(urls) > 1
        assert alias_for("auth") == "auth"
    else:
        assert alias_for("catalog") == alias_for("orders") == "default"


def test_a_browser_on_another_origin_may_send_an_idempotency_key(client):
    # POST /orders honours Idempotency-Key: the preflight must allow it, beside the default headers.
    response = client.options(
        "/orders",
        HTTP_ORIGIN="https://shop.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, authorization, idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] in ("*", "https://shop.example.com")
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert allowed >= {"idempotency-key", "content-type", "authorization", "x-requested-with"}


def test_the_admin_cookies_are_https_only_outside_debug(client):
    """Production (DEBUG off) set neither SESSION_COOKIE_SECURE nor CSRF_COOKIE_SECURE
    (``check --deploy``: W012, W016): the Django admin's session cookie went out over plain HTTP
    too. The Ingress ends TLS and SECURE_PROXY_SSL_HEADER tells Django so."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(email="root@example.com", password="password123", name="Root")
    page = client.get("/admin/login/")
    assert page.cookies["csrftoken"]["secure"] is True
    login = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "root@example.com",
            "password": "password123",
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )
    assert login.status_code == 302, login.content[:500]
    assert login.cookies["sessionid"]["secure"] is True


def test_secure_cookies_follow_debug_unless_set():
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        " print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECURE_COOKIES")}
    env["DJANGO_SETTINGS_MODULE"] = "ecommerce.settings"

    def read(**extra):
        run = subprocess.run(
            [sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True, check=True
        )
        return run.stdout.split()

    assert read() == ["True", "True"]
    assert read(DEBUG="1") == ["False", "False"]
    assert read(SECURE_COOKIES="0") == ["False", "False"]


def test_metrics_are_valid_prometheus_text(client):
    # One HELP and one TYPE per metric name, its samples together after them (the text format's
    # rule: strict parsers such as promtool's refuse a second TYPE line for a name).
    lines = client.get("/metrics").content.decode().splitlines()
    types = [line.split()[2] for line in lines if line.startswith("# TYPE ")]
    assert len(types) == len(set(types)) and "outbox_backlog" in types
    current = None
    for line in lines:
        if line.startswith("# TYPE "):
            current = line.split()[2]
        elif line and not line.startswith("#"):
            assert line.split("{")[0].split()[0] == current, line
