"""PUT /orders/:id/status: the workflow, stock given back on cancel/fail, events, permissions."""

import pytest

from apps.orders import services
from apps.orders.models import Order
from apps.orders.tests.conftest import guest_body, make_product, movements_of, stock_of
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db

ALL = ["PENDING", "PAID", "FAILED", "SHIPPED", "DELIVERED", "CANCELLED"]
ALLOWED = {
    ("PENDING", "PAID"),
    ("PENDING", "CANCELLED"),
    ("PENDING", "FAILED"),
    ("PAID", "SHIPPED"),
    ("PAID", "CANCELLED"),
    ("SHIPPED", "DELIVERED"),
}
# Cash on delivery is collected at the door: such an order may ship straight from PENDING.
ALLOWED_FOR_CASH_ON_DELIVERY = ALLOWED | {("PENDING", "SHIPPED")}


@pytest.fixture
def staff(client_as):
    client, _ = client_as("Supervisor")  # read:order + update:order
    return client


def _order(place, product, quantity=2, **overrides):
    response = place(guest_body(product, quantity=quantity, **overrides))
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.parametrize("payment", ["CASH_ON_DELIVERY", "CREDIT_CARD"])
@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("target", ALL)
def test_only_allowed_transitions(staff, place, start, target, payment):
    product = make_product(stock=10)
    order = _order(place, product, paymentMethod=payment)
    Order.objects.filter(id=order["id"]).update(status=start)
    response = staff.put(f"/orders/{order['id']}/status", {"status": target}, format="json")
    allowed = ALLOWED_FOR_CASH_ON_DELIVERY if payment == "CASH_ON_DELIVERY" else ALLOWED
    if (start, target) in allowed or start == target:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == target
        assert Order.objects.get(id=order["id"]).status == target
    else:
        assert response.status_code == 409, response.json()
        assert Order.objects.get(id=order["id"]).status == start


def test_cash_on_delivery_ships_from_pending_and_keeps_the_stock(staff, place):
    from apps.events.models import OutboxEvent

    product = make_product(stock=5)
    order = _order(place, product, quantity=2, paymentMethod="CASH_ON_DELIVERY")
    assert order["status"] == "PENDING"
    shipped = staff.put(f"/orders/{order['id']}/status", {"status": "SHIPPED"}, format="json")
    assert shipped.status_code == 200 and shipped.json()["status"] == "SHIPPED"
    delivered = staff.put(f"/orders/{order['id']}/status", {"status": "DELIVERED"}, format="json")
    assert delivered.status_code == 200 and delivered.json()["status"] == "DELIVERED"
    assert stock_of(product.variant_id) == 3
    events = OutboxEvent.objects.using(alias_for("orders")).filter(aggregate_id=order["id"])
    assert [(e.payload.get("previousStatus"), e.payload["status"]) for e in events.order_by("id")][1:] == [
        ("PENDING", "SHIPPED"),
        ("SHIPPED", "DELIVERED"),
    ]


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "split-path"])
@pytest.mark.parametrize("status", ALL)
def test_the_status_an_order_already_has_is_an_idempotent_200(staff, place, monkeypatch, status, shared):
    from apps.events.models import OutboxEvent

    monkeypatch.setattr(services, "shares_transaction", lambda: shared)
    product = make_product(stock=10)
    order = _order(place, product, quantity=3)
    # Set behind the workflow's back, so the 3 units are still held: a release would show.
    Order.objects.filter(id=order["id"]).update(status=status)
    before = Order.objects.get(id=order["id"])
    events = OutboxEvent.objects.using(alias_for("orders")).filter(aggregate_id=order["id"])
    count = events.count()

    response = staff.put(f"/orders/{order['id']}/status", {"status": status}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == status
    assert Order.objects.get(id=order["id"]).updated_at == before.updated_at
    assert events.count() == count  # no ORDER_STATUS_CHANGED
    assert stock_of(product.variant_id) == 7
    assert [m.type for m in movements_of(product.variant_id) if m.type == "ORDER_CANCELLED"] == []


@pytest.mark.parametrize("target", ["CANCELLED", "FAILED"])
def test_cancel_or_fail_gives_the_stock_back_once(staff, place, target):
    product = make_product(stock=10)
    order = _order(place, product, quantity=3)
    assert stock_of(product.variant_id) == 7
    response = staff.put(f"/orders/{order['id']}/status", {"status": target}, format="json")
    assert response.status_code == 200
    assert stock_of(product.variant_id) == 10
    returned = [m for m in movements_of(product.variant_id) if m.type == "ORDER_CANCELLED"]
    assert [(m.change_quantity, str(m.related_order_id)) for m in returned] == [(3, order["id"])]
    # A second attempt is an idempotent 200 that gives nothing back.
    assert staff.put(f"/orders/{order['id']}/status", {"status": target}, format="json").status_code == 200
    assert stock_of(product.variant_id) == 10
    assert len([m for m in movements_of(product.variant_id) if m.type == "ORDER_CANCELLED"]) == 1


def test_paid_then_cancelled_gives_the_stock_back(staff, place):
    product = make_product(stock=5)
    order = _order(place, product, quantity=5, paymentMethod="CREDIT_CARD")
    assert order["status"] == "PAID"
    assert staff.put(f"/orders/{order['id']}/status", {"status": "CANCELLED"}, format="json").status_code == 200
    assert stock_of(product.variant_id) == 5


def test_shipping_keeps_the_stock_taken(staff, place):
    product = make_product(stock=5)
    order = _order(place, product, quantity=2, paymentMethod="CREDIT_CARD")
    staff.put(f"/orders/{order['id']}/status", {"status": "SHIPPED"}, format="json")
    staff.put(f"/orders/{order['id']}/status", {"status": "DELIVERED"}, format="json")
    assert Order.objects.get(id=order["id"]).status == "DELIVERED"
    assert stock_of(product.variant_id) == 3


def test_each_change_emits_an_order_event(staff, place):
    from apps.events.models import OutboxEvent

    product = make_product()
    order = _order(place, product)
    staff.put(f"/orders/{order['id']}/status", {"status": "PAID"}, format="json")
    staff.put(f"/orders/{order['id']}/status", {"status": "SHIPPED"}, format="json")
    events = OutboxEvent.objects.using(alias_for("orders")).filter(topic="order_events", aggregate_id=order["id"])
    assert [(e.event_type, e.payload.get("previousStatus"), e.payload["status"]) for e in events.order_by("id")] == [
        ("ORDER_CREATED", None, "PENDING"),
        ("ORDER_STATUS_CHANGED", "PENDING", "PAID"),
        ("ORDER_STATUS_CHANGED", "PAID", "SHIPPED"),
    ]


def test_split_path_releases_after_the_status_commits(staff, place, monkeypatch):
    monkeypatch.setattr(services, "shares_transaction", lambda: False)
    product = make_product(stock=4)
    order = _order(place, product, quantity=4)
    assert staff.put(f"/orders/{order['id']}/status", {"status": "CANCELLED"}, format="json").status_code == 200
    assert stock_of(product.variant_id) == 4


@pytest.mark.parametrize("body", [{}, {"status": "LOST"}, {"status": None}, ["PAID"]])
def test_bad_status_is_a_400(staff, place, body):
    order = _order(place, make_product())
    assert staff.put(f"/orders/{order['id']}/status", body, format="json").status_code == 400


@pytest.mark.parametrize("order_id", ["00000000-0000-4000-8000-000000000001", "not-a-uuid"])
def test_unknown_order_is_a_404(staff, order_id):
    assert staff.put(f"/orders/{order_id}/status", {"status": "PAID"}, format="json").status_code == 404


def test_permissions(api_client, client_as, place):
    order = _order(place, make_product())
    url = f"/orders/{order['id']}/status"
    assert api_client.put(url, {"status": "PAID"}, format="json").status_code == 401
    for role in ("Customer", "Support", "Auditor"):
        client, _ = client_as(role)
        assert client.put(url, {"status": "PAID"}, format="json").status_code == 403, role
    admin, _ = client_as("ADMIN")
    assert admin.put(url, {"status": "PAID"}, format="json").status_code == 200
    assert Order.objects.get(id=order["id"]).status == "PAID"


def _refusal(order_id):
    return f"Order {order_id} was placed at checkout: its stock moves only with its status."


@pytest.mark.parametrize(("kind", "change"), [("ORDER", -5), ("ORDER_CANCELLED", 3)])
def test_staff_cannot_move_a_checkout_orders_stock_by_hand(client_as, staff, place, kind, change):
    """``release_stock(order)`` gives back what the ledger says the order holds; a hand-entered
    ORDER (or ORDER_CANCELLED) movement carrying a real order's id changed that: cancelling the
    order then gave back units it never took (or kept some it had). Such a movement is refused;
    the order's stock moves with its status."""
    adjuster, _ = client_as("Supervisor")  # adjust:stock
    product = make_product(stock=10)
    order = _order(place, product, quantity=3)
    before = len(movements_of(product.variant_id))

    response = adjuster.post(
        f"/products/stock/adjust/{product.variant_id}",
        {"changeQuantity": change, "type": kind, "reason": "till", "relatedOrderId": order["id"]},
        format="json",
    )

    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {"relatedOrderId": [_refusal(order["id"])]}
    assert stock_of(product.variant_id) == 7 and len(movements_of(product.variant_id)) == before
    cancelled = staff.put(f"/orders/{order['id']}/status", {"status": "CANCELLED"}, format="json")
    assert cancelled.status_code == 200
    assert stock_of(product.variant_id) == 10


def test_staff_can_still_note_an_order_on_a_manual_movement(client_as, place):
    """A return or a correction may name the order it is about; it is not the order's stock."""
    adjuster, _ = client_as("Supervisor")
    product = make_product(stock=10)
    order = _order(place, product, quantity=3)
    response = adjuster.post(
        f"/products/stock/adjust/{product.variant_id}",
        {"changeQuantity": 1, "type": "ADJUSTMENT", "reason": "returned damaged", "relatedOrderId": order["id"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    services.change_status(order["id"], "CANCELLED")
    assert stock_of(product.variant_id) == 11  # the order's 3 back, plus the hand-entered unit
