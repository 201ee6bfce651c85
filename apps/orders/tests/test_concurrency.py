"""50 buyers, one variant with 10 units, real PostgreSQL: exactly 10 orders, and the ledger and
the orders agree (no order without its stock, no stock taken without its order)."""

import threading
from collections import Counter

import pytest
from django.db import connections

from apps.orders.models import Order, OrderItem
from apps.orders.tests.conftest import guest_body, make_product, movements_of, stock_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_fifty_concurrent_checkouts_for_ten_units(transactional_db):
    from rest_framework.test import APIClient

    hot = make_product(stock=10, price="12.00")
    other = make_product(stock=1000)
    barrier = threading.Barrier(50)
    results, lock = [], threading.Lock()

    def buy(n):
        body = guest_body(hot, quantity=1, guestEmail=f"buyer{n}@example.com")
        # Half the buyers also take another product, so multi-line all-or-nothing is exercised.
        if n % 2:
            body["items"].append({"productId": other.id, "variantId": other.variant_id, "quantity": 2})
        try:
            barrier.wait(timeout=60)
            response = APIClient().post("/orders", body, format="json")
            outcome = (response.status_code, response.json())
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            outcome = (repr(exc), None)
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 409: 40}, statuses
    assert Order.objects.count() == 10
    assert stock_of(hot.variant_id) == 0

    orders = {str(o.id) for o in Order.objects.all()}
    created = {body["id"] for status, body in results if status == 201}
    assert created == orders
    # Every ORDER movement belongs to an order, and every order line has its movement.
    for product in (hot, other):
        taken = Counter()
        for movement in movements_of(product.variant_id):
            if movement.type == "ORDER":
                assert str(movement.related_order_id) in orders
                taken[str(movement.related_order_id)] -= movement.change_quantity
        sold = Counter()
        for item in OrderItem.objects.filter(variant_id=product.variant_id):
            sold[str(item.order_id)] += item.quantity
        assert taken == sold
    other_sold = sum(i.quantity for i in OrderItem.objects.filter(variant_id=other.variant_id))
    assert stock_of(other.variant_id) == 1000 - other_sold
