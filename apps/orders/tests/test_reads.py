"""GET routes: my-orders, one order (masked for strangers), the staff list, guest lookup."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orders.models import DenormalizedUser, Order
from apps.orders.tests.conftest import guest_body, make_product

pytestmark = pytest.mark.django_db


def _buy(place, product, client=None, **overrides):
    if client is not None:
        overrides.setdefault("guestEmail", None)
        overrides.setdefault("guestName", None)
    response = place(guest_body(product, **overrides), client=client)
    assert response.status_code == 201, response.json()
    return response.json()


# --- my-orders ----------------------------------------------------------------------------------


def test_my_orders_lists_only_mine_newest_first_paginated(place, client_as, product):
    me, _ = client_as("Customer")
    other, _ = client_as("Customer")
    mine = [_buy(place, product, client=me)["id"] for _ in range(3)]
    _buy(place, product, client=other)
    _buy(place, product)  # a guest order
    response = me.get("/orders/my-orders?page=1&limit=2")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["pagination"] == {"total": 3, "page": 1, "limit": 2, "totalPages": 2}
    assert [o["id"] for o in body["data"]] == mine[::-1][:2]
    assert [o["id"] for o in me.get("/orders/my-orders?page=2&limit=2").json()["data"]] == mine[:1]


def test_my_orders_permissions(api_client, client_as):
    assert api_client.get("/orders/my-orders").status_code == 401
    support, _ = client_as("Support")  # no read:my-orders
    assert support.get("/orders/my-orders").status_code == 403


def test_my_orders_bad_page_is_a_400(client_as):
    me, _ = client_as("Customer")
    assert me.get("/orders/my-orders?page=zero").status_code == 400


# --- one order ----------------------------------------------------------------------------------


def test_owner_and_staff_see_everything_others_see_masked(place, client_as, api_client, product):
    owner, user = client_as("Customer", name="Ann Owner", email="ann.owner@example.com")
    order = _buy(place, product, client=owner, phone="+33 6 12 34 56 78")
    url = f"/orders/{order['id']}"

    full = owner.get(url).json()
    assert full["phone"] == "+33 6 12 34 56 78"
    assert full["shippingAddress"]["city"] == "Paris"
    assert full["customerEmail"] == "ann.owner@example.com"
    assert full["userId"] == str(user.id)

    for role in ("Support", "ADMIN"):
        staff, _ = client_as(role)
        assert staff.get(url).json() == full

    stranger, _ = client_as("Customer")
    for client in (api_client, stranger):
        masked = client.get(url).json()
        assert masked["id"] == order["id"]
        assert masked["totalAmount"] == full["totalAmount"]
        assert masked["items"] == full["items"]
        assert masked["status"] == full["status"]
        assert masked["phone"] == "*********78"
        assert masked["shippingAddress"] is None
        assert masked["customerEmail"] == "a***@example.com"
        assert masked["customerName"] == "A***"
        assert masked["userId"] is None


def test_guest_order_is_masked_for_anyone_but_staff(place, api_client, product):
    order = _buy(place, product)
    masked = api_client.get(f"/orders/{order['id']}").json()
    assert masked["guestEmail"] == "j***@example.com"
    assert masked["guestName"] == "J***"
    assert masked["shippingAddress"] is None


@pytest.mark.parametrize("order_id", ["00000000-0000-4000-8000-000000000001", "not-a-uuid", "my-orderz"])
def test_unknown_order_is_a_404(api_client, order_id):
    response = api_client.get(f"/orders/{order_id}")
    assert response.status_code == 404
    assert response.json() == {"message": "Order not found."}


# --- staff list ---------------------------------------------------------------------------------


def test_staff_list_permissions(api_client, client_as):
    assert api_client.get("/orders").status_code == 401
    customer, _ = client_as("Customer")
    assert customer.get("/orders").status_code == 403
    for role in ("Support", "Auditor", "Supervisor", "ADMIN"):
        client, _ = client_as(role)
        assert client.get("/orders").status_code == 200, role


def test_staff_list_filters_and_search(place, client_as, product):
    staff, _ = client_as("Support")
    buyer, user = client_as("Customer", email="carol@shop.example")
    a = _buy(place, product, guestEmail="alice@example.com")
    b = _buy(place, product, guestEmail="bob@example.com", paymentMethod="CREDIT_CARD")
    c = _buy(place, product, client=buyer)
    Order.objects.filter(id=a["id"]).update(created_at=timezone.now() - timedelta(days=10))

    everything = staff.get("/orders").json()
    assert [o["id"] for o in everything["data"]] == [c["id"], b["id"], a["id"]]
    assert everything["pagination"]["total"] == 3

    paid = staff.get("/orders?status=PAID").json()["data"]
    assert [o["id"] for o in paid] == [b["id"]]

    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    recent = staff.get(f"/orders?from={since}").json()["data"]
    assert {o["id"] for o in recent} == {b["id"], c["id"]}
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    old = staff.get(f"/orders?to={until}").json()["data"]
    assert [o["id"] for o in old] == [a["id"]]

    assert [o["id"] for o in staff.get("/orders?q=ALICE@").json()["data"]] == [a["id"]]
    # Registered customers are found by their email from the user copies.
    assert [o["id"] for o in staff.get("/orders?q=carol@shop").json()["data"]] == [c["id"]]
    listed = staff.get("/orders?q=carol@shop").json()["data"][0]
    assert listed["customerEmail"] == "carol@shop.example"


@pytest.mark.parametrize("query", ["status=LOST", "from=yesterday", "to=2024-13-45", "limit=abc", "page=-1"])
def test_staff_list_bad_filters_are_400(client_as, query):
    staff, _ = client_as("Support")
    assert staff.get(f"/orders?{query}").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",  # the exclusive end, the day after, is in year 10000
        "to=9999-12-31T23:59:59.999999",  # and the instant after
        "to=9999-12-31T20:00:00-14:00",  # in year 10000 once in UTC, where the database compares
        "from=0001-01-01T00:00:00%2B14:00",  # in year 0 once in UTC
    ],
)
def test_staff_list_dates_beyond_the_calendar_are_400(client_as, query):
    staff, _ = client_as("Support")
    response = staff.get(f"/orders?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json() == {
        "message": f"'{name}' must be a date (YYYY-MM-DD) or an ISO-8601 date-time.",
        "errors": {name: ["Invalid date."]},
    }


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01",
        "to=9999-12-30",
        "from=9999-12-31",
        "to=0001-01-01T00:00:00Z",
        "to=9999-12-31T23:59:59.999999%2B14:00",  # 09:59:59.999999 UTC: the instant after exists
    ],
)
def test_staff_list_dates_at_the_ends_of_the_calendar_are_accepted(client_as, query):
    staff, _ = client_as("Support")
    assert staff.get(f"/orders?{query}").status_code == 200


def test_staff_list_costs_the_same_queries_for_1_or_20_orders(place, client_as):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from ecommerce.db import alias_for

    staff, _ = client_as("Support")
    products = [make_product(stock=100) for _ in range(3)]
    first, _ = client_as("Customer")
    _buy(place, products[0], client=first)

    def count_queries():
        aliases = {alias_for(c) for c in ("auth", "orders")}
        contexts = [CaptureQueriesContext(connections[a]) for a in aliases]
        for ctx in contexts:
            ctx.__enter__()
        response = staff.get("/orders?limit=50")
        for ctx in contexts:
            ctx.__exit__(None, None, None)
        assert response.status_code == 200
        return sum(len(ctx.captured_queries) for ctx in contexts), len(response.json()["data"])

    few, n_few = count_queries()
    for k in range(19):
        buyer, _ = client_as("Customer")
        two = [
            {"productId": p.id, "variantId": p.variant_id, "quantity": 1}
            for p in (products[k % 3], products[(k + 1) % 3])
        ]
        _buy(place, products[0], client=buyer if k % 2 else None, items=two)
    many, n_many = count_queries()
    assert (n_few, n_many) == (1, 20)
    assert many == few, (few, many)


# --- guest lookup -------------------------------------------------------------------------------


def test_guest_lookup_finds_the_order_with_its_email(place, api_client, product):
    order = _buy(place, product, guestEmail="Jane.Doe@Example.com")
    response = api_client.post(
        "/orders/guest-lookup", {"orderId": order["id"], "email": " jane.doe@example.com "}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == order["id"]
    assert response.json()["shippingAddress"]["city"] == "Paris"  # the guest proved who they are


def test_guest_lookup_misses_all_look_the_same(place, api_client, client_as, product):
    order = _buy(place, product)
    buyer, user = client_as("Customer")
    user_order = _buy(place, product, client=buyer)
    attempts = [
        {"orderId": order["id"], "email": "someone@else.com"},
        {"orderId": str(uuid.uuid4()), "email": "jane.doe@example.com"},
        {"orderId": "not-a-uuid", "email": "jane.doe@example.com"},
        {"orderId": user_order["id"], "email": user.email},  # not a guest order
        {"orderId": order["id"], "email": ""},
    ]
    answers = [api_client.post("/orders/guest-lookup", a, format="json") for a in attempts]
    assert [r.status_code for r in answers[:-1]] == [404] * 4
    assert len({r.content for r in answers[:-1]}) == 1
    assert answers[0].json() == {"message": "Order not found or email does not match."}
    assert answers[-1].status_code == 400


def test_guest_lookup_requires_both_fields(api_client):
    assert api_client.post("/orders/guest-lookup", {"orderId": str(uuid.uuid4())}, format="json").status_code == 400
    assert api_client.post("/orders/guest-lookup", {}, format="json").status_code == 400


@pytest.fixture
def guest_lookup_rate(settings):
    """``guest_lookup_rate("3/min")``: the guest lookup's limit for this test."""
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    def set_rate(rate):
        rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], guest_lookup=rate)
        settings.REST_FRAMEWORK = dict(settings.REST_FRAMEWORK, DEFAULT_THROTTLE_RATES=rates)
        api_settings.reload()
        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    yield set_rate
    settings.REST_FRAMEWORK = dict(settings.REST_FRAMEWORK)
    api_settings.reload()
    ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


def test_guest_lookup_is_throttled(api_client, guest_lookup_rate):
    guest_lookup_rate("3/min")
    body = {"orderId": str(uuid.uuid4()), "email": "x@example.com"}
    codes = [api_client.post("/orders/guest-lookup", body, format="json").status_code for _ in range(5)]
    assert codes == [404, 404, 404, 429, 429]


def test_a_forged_x_forwarded_for_does_not_reset_the_guest_lookup_limit(api_client, guest_lookup_rate):
    """Without NUM_PROXIES, DRF's own throttle took the client from X-Forwarded-For: a new
    forged address per request lifted the limit, and with it the bound on guessing the email of
    an order whose id is known (GET /orders/:id shows it masked, j***@example.com)."""
    guest_lookup_rate("3/min")
    body = {"orderId": str(uuid.uuid4()), "email": "x@example.com"}
    codes = [
        api_client.post("/orders/guest-lookup", body, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(5)
    ]
    assert codes == [404, 404, 404, 429, 429]


def test_customer_fields_come_from_the_user_copy(place, client_as, product):
    buyer, user = client_as("Customer", name="Old Name")
    order = _buy(place, product, client=buyer)
    DenormalizedUser.objects.filter(id=user.id).update(name="New Name", profile_image="https://cdn/x.png")
    data = buyer.get(f"/orders/{order['id']}").json()
    assert data["customerName"] == "New Name"
    assert data["customerAvatar"] == "https://cdn/x.png"
