"""Django admin: read-mostly; the status actions go through the workflow (stock comes back)."""

import uuid

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


def test_the_copies_of_products_and_users_cannot_be_deleted_in_the_admin(admin_client_):
    # The consumer owns them: a deleted product's copy is the tombstone that keeps a late
    # PRODUCT_UPDATED from resurrecting it, and the copy's version orders the updates.
    from apps.orders.models import DenormalizedProduct, DenormalizedUser
    from ecommerce.db import alias_for

    using = alias_for("orders")
    product = DenormalizedProduct.objects.using(using).create(id=uuid.uuid4(), is_deleted=True, is_active=False)
    user = DenormalizedUser.objects.using(using).create(id=uuid.uuid4(), email="copy@example.com")
    for model, row in (("denormalizedproduct", product), ("denormalizeduser", user)):
        assert admin_client_.post(f"/admin/orders/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 403
        selected = {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"}
        admin_client_.post(f"/admin/orders/{model}/", selected)
    assert DenormalizedProduct.objects.using(using).filter(pk=product.pk).exists()
    assert DenormalizedUser.objects.using(using).filter(pk=user.pk).exists()
