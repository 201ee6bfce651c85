"""Checkout takes ids as sent: UUID strings. DRF's plain field took ``1`` as the UUID ...-0001;
each is a 400 naming the field, and no stock is taken."""

import pytest

from apps.orders.tests.conftest import guest_body, stock_of

pytestmark = pytest.mark.django_db


def assert_refused(response, field, message=None):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert field in body["errors"], body
    if message:
        assert message in str(body["errors"][field]), body


@pytest.mark.parametrize("value", [1, True, 0, 2.5, [1]], ids=repr)
@pytest.mark.parametrize("field", ["productId", "variantId"])
def test_line_ids_must_be_uuid_strings(place, product, field, value):
    body = guest_body(product)
    body["items"][0][field] = value
    assert_refused(place(body), "items", "Must be a valid UUID.")
    assert stock_of(product.variant_id) == 10
