"""Idempotency-Key on POST /orders."""

import threading

import pytest
from django.db import connections

from apps.orders.models import IdempotencyKey, Order
from apps.orders.tests.conftest import guest_body, make_product, movements_of, stock_of

pytestmark = pytest.mark.django_db


def test_same_key_and_body_returns_the_same_order_without_taking_stock_twice(place, product):
    body = guest_body(product, quantity=2)
    first = place(body, key="checkout-123")
    again = place(body, key="checkout-123")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["totalAmount"] == first.json()["totalAmount"]
    assert stock_of(product.variant_id) == 8
    assert len([m for m in movements_of(product.variant_id) if m.type == "ORDER"]) == 1
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_a_409(place, product):
    assert place(guest_body(product, quantity=1), key="k-1").status_code == 201
    response = place(guest_body(product, quantity=2), key="k-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["message"]
    assert stock_of(product.variant_id) == 9


def test_without_a_key_each_request_is_a_new_order(place, product):
    body = guest_body(product)
    assert place(body).json()["id"] != place(body).json()["id"]
    assert stock_of(product.variant_id) == 8


def test_keys_are_scoped_to_the_customer(place, client_as, product):
    body = guest_body(product, guestEmail=None, guestName=None)
    ann, _ = client_as("Customer")
    bob, _ = client_as("Customer")
    first = place(body, client=ann, key="shared-key")
    second = place(body, client=bob, key="shared-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_guest_keys_are_scoped_to_the_guest_email(place, product):
    """Two guests whose shops happen to send the same key each get their own order (one shared
    "guest" scope answered the second with a 409, or with the first guest's order)."""
    ann = place(guest_body(product, quantity=1, guestEmail="ann@example.com"), key="same-key")
    bob = place(guest_body(product, quantity=2, guestEmail="bob@example.com"), key="same-key")
    assert (ann.status_code, bob.status_code) == (201, 201)
    assert ann.json()["id"] != bob.json()["id"]
    again = place(guest_body(product, quantity=1, guestEmail="ann@example.com"), key="same-key")
    assert (again.status_code, again.json()["id"]) == (200, ann.json()["id"])  # the same guest retrying
    # The same guest (the address folded), another body: the key is hers, and already used.
    assert place(guest_body(product, quantity=3, guestEmail=" Ann@Example.COM"), key="same-key").status_code == 409
    assert stock_of(product.variant_id) == 7


def test_a_failed_request_does_not_burn_the_key(place, product):
    body = guest_body(product, quantity=50)
    assert place(body, key="retry-me").status_code == 409
    body["items"][0]["quantity"] = 1
    assert place(body, key="retry-me").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "caf\u00e9"])
def test_a_malformed_key_is_a_400(place, product, key):
    response = place(guest_body(product), key=key or None) if key else None
    if response is None:  # an empty header
        from rest_framework.test import APIClient

        response = APIClient().post("/orders", guest_body(product), format="json", HTTP_IDEMPOTENCY_KEY="")
    assert response.status_code == 400
    assert stock_of(product.variant_id) == 10


@pytest.mark.postgres
def test_concurrent_duplicates_make_one_order(transactional_db):
    from rest_framework.test import APIClient

    product = make_product(stock=10)
    body = guest_body(product, quantity=1)
    barrier = threading.Barrier(8)
    results, lock = [], threading.Lock()

    def send():
        try:
            barrier.wait(timeout=30)
            response = APIClient().post("/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="double-click")
            outcome = (response.status_code, response.json().get("id"))
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 7 + [201], results
    assert len({order_id for _, order_id in results}) == 1
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert stock_of(product.variant_id) == 9
    assert sum(m.change_quantity for m in movements_of(product.variant_id) if m.type != "INITIAL_STOCK") == -1
