"""Split deployment, for real: two web processes serving different apps over the same PostgreSQL
databases (one per context), events through Kafka (the Tansu broker in CI), and the relay and the
orders consumer as their own processes, exactly as the split overlay runs them.

Process A serves auth + catalog + cart, process B serves orders. A checkout placed on B takes
stock that A then reports; B's cancellation puts it back; the product and the customer reach
the orders context's copies through relay → Kafka → ``consume_events --group orders``.
"""

import os
import subprocess
import uuid
from decimal import Decimal

import pytest
from django.conf import settings

from tests.e2e.conftest import ENTRYPOINT, REPO, embedded_env, free_port, stop, wait_healthy
from tests.e2e.http import Client, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.kafka,
    pytest.mark.timeout(280),
]

CONTEXT_DATABASES = ("default", "auth", "catalog", "orders", "search")
ADMIN = ("split-admin@example.com", "split-admin-password")
SHIPPING = Decimal(os.environ.get("E2E_SHIPPING_COST", "9.18"))


def _server_conninfo(dbname):
    db = settings.DATABASES["default"]
    parts = [
        f"host={db['HOST'] or '127.0.0.1'}",
        f"port={db['PORT'] or 5432}",
        f"user={db['USER']}",
        f"dbname={dbname}",
    ]
    if db.get("PASSWORD"):
        parts.append(f"password={db['PASSWORD']}")
    return " ".join(parts)


def _database_url(dbname):
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{dbname}"


def _admin_sql(*statements):
    import psycopg

    with psycopg.connect(_server_conninfo("postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _query(dbname, sql, params=()):
    import psycopg

    with psycopg.connect(_server_conninfo(dbname), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


class Stack:
    """The processes of the split deployment, with their logs for failure messages."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.processes = []

    def start(self, name, env, *args):
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop_all
        process = subprocess.Popen(  # noqa: S603
            [str(ENTRYPOINT), *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append((name, process, log))
        return process

    def logs(self, lines=40):
        out = []
        for name, _, _ in self.processes:
            text = (self.tmp_path / f"{name}.log").read_text(errors="replace").splitlines()
            out.append(f"--- {name} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def check_alive(self):
        for name, process, _ in self.processes:
            assert process.poll() is None, f"{name} exited with {process.returncode}\n{self.logs()}"

    def stop_all(self):
        for _, process, log in reversed(self.processes):
            stop(process, timeout=10)
            log.close()


@pytest.fixture
def split_stack(tmp_path):
    if os.environ.get("E2E_BASE_URL"):
        pytest.skip("starts its own processes; E2E_BASE_URL targets a deployed stack")
    suffix = os.environ.get("ECOMMERCE_TEST_DB_SUFFIX") or "deploy"
    names = {alias: f"split_{alias}_{suffix}" for alias in CONTEXT_DATABASES}
    drop = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names.values()]
    _admin_sql(*drop, *(f'CREATE DATABASE "{name}"' for name in names.values()))

    env = embedded_env(
        tmp_path,
        DATABASE_URL=_database_url(names["default"]),
        **{f"{alias.upper()}_DATABASE_URL": _database_url(names[alias]) for alias in CONTEXT_DATABASES[1:]},
        EVENTS_TRANSPORT="kafka",
        KAFKA_BOOTSTRAP_SERVERS=settings.KAFKA_BOOTSTRAP_SERVERS,
        # Fresh topics and consumer groups for every run: no message of an earlier run is seen.
        EVENTS_TOPIC_PREFIX=f"{settings.EVENTS_TOPIC_PREFIX}split{uuid.uuid4().hex[:8]}_",
        ADMIN_EMAIL=ADMIN[0],
        ADMIN_PASSWORD=ADMIN[1],
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="4",
        JWT_SECRET="split-mode-shared-jwt-secret-0123456789abcdef",
    )
    migrate = subprocess.run(  # noqa: S603
        [str(ENTRYPOINT), "migrate"], cwd=REPO, env=env, capture_output=True, text=True, timeout=240
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]

    stack = Stack(tmp_path)
    port_a, port_b = free_port(), free_port()
    try:
        a = stack.start(
            "web-a",
            {**env, "PORT": str(port_a), "ECOMMERCE_SERVICES": "auth,catalog,cart", "ROLE_FILE": str(tmp_path / "a")},
            "web",
        )
        b = stack.start(
            "web-b",
            {**env, "PORT": str(port_b), "ECOMMERCE_SERVICES": "orders", "ROLE_FILE": str(tmp_path / "b")},
            "web",
        )
        stack.start("relay", {**env, "ROLE_FILE": str(tmp_path / "r")}, "relay", "--interval", "0.2")
        stack.start("consumer-orders", {**env, "ROLE_FILE": str(tmp_path / "c")}, "consumer", "orders")
        try:
            wait_healthy(f"http://127.0.0.1:{port_a}", a, timeout=60)
            wait_healthy(f"http://127.0.0.1:{port_b}", b, timeout=60)
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{stack.logs()}") from exc
        yield {
            "a": Client(f"http://127.0.0.1:{port_a}"),
            "b": Client(f"http://127.0.0.1:{port_b}"),
            "db": names,
            "stack": stack,
        }
    finally:
        stack.stop_all()
        _admin_sql(*drop)


def test_checkout_across_two_processes_with_events_through_kafka(split_stack):
    a, b, db, stack = split_stack["a"], split_stack["b"], split_stack["db"], split_stack["stack"]
    unique = uuid.uuid4().hex[:8]

    # Each process serves its own prefixes only; the others answer the contract's 404.
    for client, path in ((a, "/orders"), (b, "/products"), (b, "/carts/x")):
        response = client.get(path)
        assert response.status == 404, (path, response.status, response.text)
        assert response.headers.get("Content-Type", "").startswith("application/json") and response.body["message"]
    assert b.post("/auth/login", {"email": ADMIN[0], "password": ADMIN[1]}).status == 404
    assert b.get("/orders/health").status == 200 and a.get("/products/health").status == 200
    assert a.post("/carts").status == 201

    login = a.post("/auth/login", {"email": ADMIN[0], "password": ADMIN[1]})
    assert login.status == 200, login.text
    admin_a, admin_b = a.with_token(login.body["token"]), b.with_token(login.body["token"])
    registered = a.post(
        "/auth/register", {"name": "Split Buyer", "email": f"split-{unique}@example.com", "password": "buyer-pass-1"}
    )
    assert registered.status == 201, registered.text
    customer_id = a.with_token(registered.body["token"]).get("/auth/me").body["id"]

    category = admin_a.post("/products/categories", {"name": f"Split {unique}", "slug": f"split-{unique}"})
    assert category.status == 201, category.text
    created = admin_a.post(
        "/products",
        {
            "sku": f"SPLIT-{unique}",
            "name": f"Split lamp {unique}",
            "description": "sold across two processes",
            "isActive": True,
            "categoryIds": [category.body["id"]],
            "variants": [
                {"attributes": {"color": "white"}, "price": "25.00", "costPrice": "10.00", "initialStockQuantity": 5}
            ],
        },
    )
    assert created.status == 201, created.text
    product_id, variant_id = created.body["id"], created.body["variants"][0]["id"]

    def stock():
        response = a.get(f"/products/id/{product_id}")
        assert response.status == 200, response.text
        return response.body["variants"][0]["stockQuantity"]

    # relay → Kafka → consume_events --group orders: the orders context gets its copies.
    from apps.orders.models import DenormalizedProduct, DenormalizedUser

    def copied(model, object_id):
        stack.check_alive()
        return _query(db["orders"], f"SELECT name FROM {model._meta.db_table} WHERE id = %s", (object_id,))  # noqa: S608

    assert wait_for(lambda: copied(DenormalizedProduct, product_id), timeout=60, what="product copy") == [
        (f"Split lamp {unique}",)
    ]
    assert wait_for(lambda: copied(DenormalizedUser, customer_id), timeout=60, what="user copy") == [("Split Buyer",)]

    # A guest order on B takes stock that A reports.
    order = b.post(
        "/orders",
        {
            "items": [{"productId": product_id, "variantId": variant_id, "quantity": 2, "price": 0.01}],
            "phone": "+33612345678",
            "guestEmail": f"guest-{unique}@example.com",
            "guestName": "Split Guest",
            "paymentMethod": "CASH_ON_DELIVERY",
        },
    )
    assert order.status == 201, f"{order.text}\n{stack.logs()}"
    assert Decimal(order.body["totalAmount"]) == Decimal("50.00") + SHIPPING
    assert stock() == 3

    # The customer's token (issued by A) is honoured by B.
    mine = b.with_token(registered.body["token"]).post(
        "/orders",
        {
            "items": [{"productId": product_id, "variantId": variant_id, "quantity": 1}],
            "phone": "+33600000001",
            "paymentMethod": "CREDIT_CARD",
        },
    )
    assert mine.status == 201, mine.text
    assert mine.body["customerEmail"] == f"split-{unique}@example.com"
    assert stock() == 2

    # More than is left: refused, nothing taken.
    refused = b.post(
        "/orders",
        {
            "items": [{"productId": product_id, "variantId": variant_id, "quantity": 3}],
            "phone": "+33612345678",
            "guestEmail": f"guest-{unique}@example.com",
            "guestName": "Split Guest",
            "paymentMethod": "CASH_ON_DELIVERY",
        },
    )
    assert refused.status == 409, refused.text
    assert stock() == 2

    # The ADMIN's token from A cancels on B; A sees the stock back.
    cancelled = admin_b.put(f"/orders/{order.body['id']}/status", {"status": "CANCELLED"})
    assert cancelled.status == 200, cancelled.text
    assert stock() == 4

    # The orders context's own events left through the relay too.
    from apps.events.models import OutboxEvent

    def orders_outbox_published():
        rows = _query(
            db["orders"],
            f"SELECT count(*) FILTER (WHERE published_at IS NULL), count(*) FROM {OutboxEvent._meta.db_table}",  # noqa: S608
        )
        pending, total = rows[0]
        return total >= 3 and pending == 0

    wait_for(orders_outbox_published, timeout=60, what="order events published")
    stack.check_alive()
