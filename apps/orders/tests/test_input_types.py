"""Checkout takes JSON types as sent: ids are UUID strings and text fields are strings. DRF's
plain fields stored ``"phone": 12.345678901234`` as the text "12.345678901234" and took ``1`` as
the UUID ...-0001; each is a 400 naming the field, and no stock is taken."""

import pytest

from apps.orders.models import Order
from apps.orders.tests.conftest import guest_body, stock_of
from tests.assertions import assert_refused

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", [1, True, 0, 2.5, [1]], ids=repr)
@pytest.mark.parametrize("field", ["productId", "variantId"])
def test_line_ids_must_be_uuid_strings(place, product, field, value):
    body = guest_body(product)
    body["items"][0][field] = value
    assert_refused(place(body), "items", "Must be a valid UUID.")
    assert stock_of(product.variant_id) == 10


@pytest.mark.parametrize("value", [12.345678901234, 33612345678, 1e300, True, {"n": "1"}], ids=repr)
@pytest.mark.parametrize("field", ["phone", "guestName", "guestEmail", "cartId"])
def test_text_fields_take_strings_only(place, product, field, value):
    body = guest_body(product)
    if field == "cartId":
        body.pop("items")
    body[field] = value
    assert_refused(place(body), field)
    assert Order.objects.count() == 0


@pytest.mark.parametrize("field", ["country", "firstName", "lastName", "address", "apartment", "postalCode", "city"])
def test_address_fields_take_strings_only(place, product, field):
    body = guest_body(product)
    body["shippingAddress"][field] = 75002
    assert_refused(place(body), "shippingAddress")
    assert Order.objects.count() == 0


def test_guest_lookup_takes_strings_only(api_client):
    response = api_client.post("/orders/guest-lookup", {"orderId": 1, "email": "a@b.co"}, format="json")
    assert_refused(response, "orderId")
    response = api_client.post("/orders/guest-lookup", {"orderId": "x", "email": 12}, format="json")
    assert_refused(response, "email")
