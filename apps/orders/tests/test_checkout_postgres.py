"""The whole checkout on PostgreSQL, in whichever shape the tier runs (shared database: one
transaction; per-context databases: reservation + compensation). SQLite runs the same flows
through test_checkout.py and friends."""

import pytest

from apps.orders import services
from apps.orders.models import Order
from apps.orders.tests.conftest import guest_body, make_product, movements_of, stock_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_checkout_lifecycle(place, client_as):
    staff, _ = client_as("Supervisor")
    buyer, user = client_as("Customer")
    mug, pot = make_product(price="7.50", stock=4), make_product(price="30.00", stock=2)
    body = guest_body(mug, quantity=2, guestEmail=None, guestName=None)
    body["items"].append({"productId": pot.id, "variantId": pot.variant_id, "quantity": 1})

    first = place(body, client=buyer, key="pg-flow")
    assert first.status_code == 201, first.json()
    order = first.json()
    assert order["totalAmount"] == "54.18"
    assert place(body, client=buyer, key="pg-flow").json()["id"] == order["id"]
    assert (stock_of(mug.variant_id), stock_of(pot.variant_id)) == (2, 1)

    mine = buyer.get("/orders/my-orders").json()
    assert [o["id"] for o in mine["data"]] == [order["id"]]
    assert staff.get(f"/orders?q={user.email}").json()["data"][0]["id"] == order["id"]

    assert staff.put(f"/orders/{order['id']}/status", {"status": "CANCELLED"}, format="json").status_code == 200
    assert (stock_of(mug.variant_id), stock_of(pot.variant_id)) == (4, 2)
    assert Order.objects.get(id=order["id"]).status == "CANCELLED"


def test_too_much_on_the_second_line_takes_nothing(place):
    mug, pot = make_product(stock=4), make_product(stock=1)
    body = guest_body(mug, quantity=2)
    body["items"].append({"productId": pot.id, "variantId": pot.variant_id, "quantity": 2})
    assert place(body).status_code == 409
    assert (stock_of(mug.variant_id), stock_of(pot.variant_id)) == (4, 1)


@pytest.mark.parametrize("shape", ["actual", "split-path"])
def test_failure_after_reservation(place, monkeypatch, shape):
    product = make_product(stock=6)
    if shape == "split-path":
        monkeypatch.setattr(services, "shares_transaction", lambda: False)
    seen = []

    def boom(order_id, *args):
        seen.append(order_id)
        raise RuntimeError("injected")

    monkeypatch.setattr(services, "_write_order", boom)
    assert place(guest_body(product, quantity=6)).status_code == 500
    assert seen
    assert stock_of(product.variant_id) == 6
    assert Order.objects.count() == 0
    assert sum(m.change_quantity for m in movements_of(product.variant_id) if m.related_order_id == seen[0]) == 0
