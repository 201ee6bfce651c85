"""The hand-built order JSON (``api/rendering.py``) is exactly what ``OrderOutput`` gives."""

import pytest

from apps.orders import selectors
from apps.orders.api.rendering import render_order
from apps.orders.api.serializers import OrderOutput
from apps.orders.models import DenormalizedProduct, Order, OrderItem
from apps.orders.tests.conftest import guest_body, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(place, client_as):
    plain = make_product(price="12.50")
    pictured = make_product(price="1999.99", image_url="https://cdn.example/p.png", variants=2)
    customer, user = client_as("Customer", name="Ana Customer")
    assert place(guest_body(plain, quantity=3)).status_code == 201
    body = guest_body(pictured, guestEmail=None, guestName=None, shippingAddress=None, paymentMethod="CREDIT_CARD")
    body["items"].append({"productId": pictured.id, "variantId": pictured.variant_ids[1], "quantity": 2})
    assert place(body, client=customer).status_code == 201
    # A line that lacks its name and picture takes them from the product copy.
    OrderItem.objects.filter(product_id=plain.id).update(product_name="", image_url=None)
    DenormalizedProduct.objects.update_or_create(
        id=plain.id, defaults={"name": "Copy name", "sku": "COPY", "image_url": "https://cdn.example/copy.png"}
    )
    return list(Order.objects.prefetch_related("items").order_by("created_at")), user


@pytest.mark.parametrize("masked", [False, True])
def test_hand_built_orders_equal_the_serializer(orders, masked):
    orders, user = orders
    users, products = selectors.related_copies(orders)

    def full_access(order):
        return order.user_id == user.id

    access = full_access if masked else None
    context = {"users": users, "products": products}
    if masked:
        context["full_access"] = full_access
    expected = OrderOutput(orders, many=True, context=context).data
    built = [render_order(order, users, products, access) for order in orders]
    assert built == expected
    guest_order = built[0]
    assert guest_order["items"][0]["productName"] == "Copy name"
    assert guest_order["totalAmount"] == expected[0]["totalAmount"] and "." in guest_order["totalAmount"]
    assert (guest_order["phone"] != "+33 6 12 34 56 78") is masked
