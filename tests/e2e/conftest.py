"""End-to-end tests: they drive a live server over HTTP through the contract's flows.

- ``E2E_BASE_URL`` set (Jenkins, against the Kind cluster through the Ingress; or any running
  stack, e.g. docker compose): the tests talk to it, logging in as ``E2E_ADMIN_EMAIL`` /
  ``E2E_ADMIN_PASSWORD``.
- Otherwise the tests start their own server the way the image does (``docker/entrypoint.sh
  migrate`` then ``docker/entrypoint.sh web``: gunicorn) on a free port, on the embedded
  defaults (SQLite in a scratch directory, in-process events), and stop it afterwards. The
  service tier skips that local run: it would be the same server again.

Every name a test creates carries a random suffix, so the tests can run again and again
against the same long-lived stack.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.http import Client

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
LOCAL_ADMIN = ("e2e-admin@example.com", "e2e-admin-password")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(var_dir, **extra):
    """The process environment of a server on the embedded defaults (no server needed)."""
    drop = ("DATABASE_URL", "REDIS_URL", "CART_REDIS_URL", "CELERY_BROKER_URL", "ECOMMERCE_SERVICES")
    env = {k: v for k, v in os.environ.items() if not k.endswith(drop) and not k.startswith("PYTEST_")}
    env.update(
        PYTHON=sys.executable,
        PATH=f"{os.path.dirname(sys.executable)}:{env.get('PATH', '/usr/bin:/bin')}",
        VAR_DIR=str(var_dir),
        ROLE_FILE=str(Path(var_dir) / "role"),
        DJANGO_SETTINGS_MODULE="ecommerce.settings",
        SECRET_KEY=f"e2e-{uuid.uuid4().hex}{uuid.uuid4().hex}",  # the web role refuses the development key
        EVENTS_TRANSPORT="inline",
        SEARCH_BACKEND="database",
        # Many logins and registrations from one address in a few seconds.
        THROTTLE_LOGIN_IP="10000/min",
        THROTTLE_LOGIN_EMAIL="10000/min",
        THROTTLE_REGISTER_IP="10000/hour",
        THROTTLE_GUEST_LOOKUP="10000/min",
    )
    env.update(extra)
    return env


def wait_healthy(base_url, process=None, timeout=60.0):
    client = Client(base_url, timeout=3)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if client.get("/health").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base_url}/health did not answer within {timeout:.0f} s")


def stop(process, timeout=15):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def local_server(tmp_path_factory):
    """The server these tests start (None when E2E_BASE_URL names one): {"url", "env"}."""
    if os.environ.get("E2E_BASE_URL"):
        yield None
        return
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the local end-to-end server runs in the embedded tier (set E2E_BASE_URL to target a stack)")
    var_dir = tmp_path_factory.mktemp("e2e-server")
    port = free_port()
    env = embedded_env(
        var_dir, PORT=str(port), ADMIN_EMAIL=LOCAL_ADMIN[0], ADMIN_PASSWORD=LOCAL_ADMIN[1], GUNICORN_WORKERS="2"
    )
    migrate = subprocess.run(  # noqa: S603
        [str(ENTRYPOINT), "migrate"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    log = open(var_dir / "web.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen([str(ENTRYPOINT), "web"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        yield {"url": f"http://127.0.0.1:{port}", "env": env, "process": server}
    finally:
        stop(server)
        log.close()


@pytest.fixture(scope="session")
def live_server_url(local_server):
    if local_server is not None:
        return local_server["url"]
    external = os.environ["E2E_BASE_URL"]
    wait_healthy(external, timeout=float(os.environ.get("E2E_WAIT_SECONDS", "120")))
    return external.rstrip("/")


@pytest.fixture(scope="session")
def admin_credentials():
    if os.environ.get("E2E_BASE_URL"):
        email, password = os.environ.get("E2E_ADMIN_EMAIL"), os.environ.get("E2E_ADMIN_PASSWORD")
        if not (email and password):
            pytest.fail("E2E_BASE_URL is set: E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD are needed too")
        return email, password
    return LOCAL_ADMIN


@pytest.fixture(scope="session")
def anonymous(live_server_url):
    return Client(live_server_url)


@pytest.fixture(scope="session")
def admin(anonymous, admin_credentials):
    email, password = admin_credentials
    response = anonymous.post("/auth/login", {"email": email, "password": password})
    assert response.status == 200, response.text
    return anonymous.with_token(response.body["token"])


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]


@pytest.fixture
def customer(anonymous, unique):
    """A newly registered customer: (client with its token, email, password)."""
    email, password = f"e2e-{unique}@example.com", "customer-password-1"
    response = anonymous.post("/auth/register", {"name": f"E2E {unique}", "email": email, "password": password})
    assert response.status == 201, response.text
    return anonymous.with_token(response.body["token"]), email, password


@pytest.fixture
def product(admin, unique):
    """A leaf category and an active product in it with two variants (stock 5 and 2)."""
    category = admin.post(
        "/products/categories", {"name": f"E2E Shoes {unique}", "slug": f"e2e-shoes-{unique}", "parentId": None}
    )
    assert category.status == 201, category.text
    body = {
        "sku": f"E2E-{unique}",
        "name": f"Trail runner {unique}",
        "description": "A light shoe for muddy paths",
        "isActive": True,
        "categoryIds": [category.body["id"]],
        "variants": [
            {
                "attributes": {"color": "red", "size": "42"},
                "price": "79.90",
                "costPrice": "30.00",
                "lowStockThreshold": 1,
                "initialStockQuantity": 5,
            },
            {
                "attributes": {"color": "blue", "size": "43"},
                "price": 84.5,
                "costPrice": 31,
                "lowStockThreshold": 1,
                "initialStockQuantity": 2,
            },
        ],
        "images": [{"imageUrl": "https://cdn.example.com/e2e.jpg", "altText": "shoe", "isPrimary": True, "order": 0}],
    }
    created = admin.post("/products", body)
    assert created.status == 201, created.text
    return created.body
