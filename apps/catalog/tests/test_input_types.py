"""Ids are taken as sent: a UUID string. DRF's plain field coerced the rest (true → the UUID
...-0001): each is now a 400 that names the field, and nothing is written."""

import pytest

from apps.catalog.models import Category, Product, StockMovement
from apps.catalog.tests.test_api_products import new_product_body

pytestmark = pytest.mark.django_db

NOT_UUIDS = [True, False, 1, 0, 1.5, ["7c9e6679-7425-40de-944b-e07fc1f90ae7"], {"id": 1}]


def assert_refused(response, field, message=None):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert field in body["errors"], body
    if message:
        assert message in str(body["errors"][field]), body


@pytest.mark.parametrize("value", NOT_UUIDS, ids=repr)
def test_stock_adjust_related_order_id_must_be_a_uuid_string(admin, shirt, value):
    variant = shirt.variants.first()
    body = {"changeQuantity": 1, "type": "ADJUSTMENT", "relatedOrderId": value}
    response = admin.post(f"/products/stock/adjust/{variant.id}", body, format="json")
    assert_refused(response, "relatedOrderId", "Must be a valid UUID.")
    assert not StockMovement.objects.filter(variant=variant, type="ADJUSTMENT").exists()


@pytest.mark.parametrize("value", NOT_UUIDS[:5], ids=repr)
def test_product_category_ids_must_be_uuid_strings(admin, db, value):
    response = admin.post("/products", new_product_body(categoryIds=[value]), format="json")
    assert_refused(response, "categoryIds", "Must be a valid UUID.")
    assert not Product.objects.exists()


@pytest.mark.parametrize("value", NOT_UUIDS[:5], ids=repr)
def test_category_parent_id_must_be_a_uuid_string(admin, tree, value):
    response = admin.post("/products/categories", {"name": "Hats", "slug": "hats", "parentId": value}, format="json")
    assert_refused(response, "parentId", "Must be a valid UUID.")
    response = admin.put(f"/products/categories/{tree['shirts'].id}", {"parentId": value}, format="json")
    assert_refused(response, "parentId", "Must be a valid UUID.")
    assert not Category.objects.filter(slug="hats").exists()
