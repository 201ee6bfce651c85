"""Django admin: read-mostly; the status actions go through the workflow (stock comes back)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.orders.models import Order
from apps.orders.tests.conftest import guest_body, make_product, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_():
    user = get_user_model().objects.create_superuser(email="root@example.com", password="rootpass123", name="Root")
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_and_shows_orders_read_only(admin_client_, place):
    product = make_product()
    order = place(guest_body(product)).json()
    listing = admin_client_.get("/admin/orders/order/")
    assert listing.status_code == 200
    assert order["id"] in listing.content.decode()
    detail = admin_client_.get(f"/admin/orders/order/{order['id']}/change/")
    assert detail.status_code == 200
    assert product.name in detail.content.decode()
    assert admin_client_.get("/admin/orders/order/add/").status_code == 403


def test_admin_status_actions_use_the_workflow(admin_client_, place):
    product = make_product(stock=5)
    pending = place(guest_body(product, quantity=2)).json()
    paid = place(guest_body(product, quantity=1, paymentMethod="CREDIT_CARD")).json()
    shipped = place(guest_body(product, quantity=1, paymentMethod="CREDIT_CARD")).json()
    Order.objects.filter(id=shipped["id"]).update(status="SHIPPED")
    assert stock_of(product.variant_id) == 1
    response = admin_client_.post(
        "/admin/orders/order/",
        {"action": "mark_cancelled", "_selected_action": [pending["id"], paid["id"], shipped["id"]]},
        follow=True,
    )
    assert response.status_code == 200
    statuses = dict(Order.objects.values_list("id", "status"))
    assert {str(k): v for k, v in statuses.items()} == {
        pending["id"]: "CANCELLED",
        paid["id"]: "CANCELLED",
        shipped["id"]: "SHIPPED",  # SHIPPED → CANCELLED is not an allowed transition
    }
    assert stock_of(product.variant_id) == 4
    assert "Cannot change order status from SHIPPED to CANCELLED" in response.content.decode()
