"""Checkout of a cart (``cartId``): lines from the cart, prices from the catalogue, cart cleared."""

import uuid
from types import SimpleNamespace

import pytest

from apps.orders.models import Order
from apps.orders.tests.conftest import guest_body, make_product, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cart_cache(settings, tmp_path):
    """The embedded file cache is one directory for every xdist worker, and each test clears it:
    give these tests their own (Redis, when configured, is already one database per worker)."""
    carts = settings.CACHES["carts"]
    if carts["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES = {**settings.CACHES, "carts": {**carts, "LOCATION": str(tmp_path / "carts")}}


def _cart_with(*lines, user=None):
    from apps.cart import services as carts

    cart, _ = carts.create_cart(user=user)
    for product, quantity in lines:
        carts.add_item(cart["id"], user, variant_id=product.variant_id, quantity=quantity, product_id=product.id)
    return cart["id"]


def _body(cart_id, **overrides):
    body = guest_body(SimpleNamespace(id="", variant_id=""), cartId=cart_id, **overrides)
    body.pop("items")
    return body


def test_guest_checks_out_a_cart_and_it_is_cleared(place):
    from apps.cart.services import get_cart

    mug, pot = make_product(price="8.00", stock=5), make_product(price="20.00", stock=5)
    cart_id = _cart_with((mug, 2), (pot, 1))
    response = place(_body(cart_id))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert sorted((i["variantId"], i["quantity"]) for i in data["items"]) == sorted(
        [(mug.variant_id, 2), (pot.variant_id, 1)]
    )
    assert data["totalAmount"] == "45.18"
    assert stock_of(mug.variant_id) == 3 and stock_of(pot.variant_id) == 4
    assert get_cart(cart_id) is None


def test_a_customer_checks_out_their_own_cart(place, client_as):
    client, user = client_as("Customer")
    mug = make_product()
    cart_id = _cart_with((mug, 1), user=user)
    response = place(_body(cart_id, guestEmail=None, guestName=None), client=client)
    assert response.status_code == 201, response.json()
    assert response.json()["userId"] == str(user.id)


def test_someone_elses_cart_does_not_exist(place, make_user):
    owner = make_user()
    mug = make_product()
    cart_id = _cart_with((mug, 1), user=owner)
    assert place(_body(cart_id)).status_code == 404
    assert stock_of(mug.variant_id) == 10


def test_unknown_or_empty_cart(place):
    assert place(_body(str(uuid.uuid4()))).status_code == 404
    empty = _cart_with()
    assert place(_body(empty)).status_code == 400
    assert Order.objects.count() == 0


def test_a_failed_cart_checkout_keeps_the_cart(place):
    from apps.cart.services import get_cart
    from apps.catalog.services import adjust_stock

    mug = make_product(stock=2)
    cart_id = _cart_with((mug, 2))
    adjust_stock(mug.variant_id, -1, "ADMIN_UPDATE", reason="broken")
    assert place(_body(cart_id)).status_code == 409
    assert get_cart(cart_id) is not None
