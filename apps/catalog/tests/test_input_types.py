"""JSON types are taken as sent: an id is a UUID string, text is a string, money is a JSON number
or a string of ASCII digits. DRF's plain fields coerced the rest (true → UUID ...-0001, 1e300 →
"1e+300", "١٢" → 12.00): each is now a 400 that names the field, and nothing is written."""

from decimal import Decimal

import pytest

from apps.catalog.models import Category, Product, StockMovement, Variant
from apps.catalog.tests.test_api_products import new_product_body
from tests.assertions import assert_refused

pytestmark = pytest.mark.django_db

NOT_UUIDS = [True, False, 1, 0, 1.5, ["7c9e6679-7425-40de-944b-e07fc1f90ae7"], {"id": 1}]
NOT_STRINGS = [12.345678901234, 1e300, 7, True, ["x"], {"x": 1}]


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


@pytest.mark.parametrize("value", NOT_STRINGS, ids=repr)
@pytest.mark.parametrize("field", ["name", "sku", "description"])
def test_product_text_fields_take_strings_only(admin, shirt, field, value):
    assert_refused(admin.post("/products", new_product_body(**{field: value}), format="json"), field)
    assert_refused(admin.put(f"/products/{shirt.id}", {field: value}, format="json"), field)
    shirt.refresh_from_db()
    assert (shirt.sku, shirt.name) == ("SHIRT-1", "Oxford shirt")


@pytest.mark.parametrize(
    "override, field",
    [
        ({"categorySlugs": [12]}, "categorySlugs"),
        ({"images": [{"imageUrl": 12}]}, "images"),
        ({"images": [{"imageUrl": "/images/images/x.jpg", "altText": 1.5}]}, "images"),
    ],
)
def test_nested_text_fields_take_strings_only(admin, db, override, field):
    assert_refused(admin.post("/products", new_product_body(**override), format="json"), field)


def test_category_and_stock_text_fields_take_strings_only(admin, tree, shirt):
    assert_refused(admin.post("/products/categories", {"name": 12, "slug": "x"}, format="json"), "name")
    assert_refused(admin.post("/products/categories", {"name": "X", "slug": 12}, format="json"), "slug")
    assert_refused(admin.put(f"/products/categories/{tree['shirts'].id}", {"imageUrl": 1}, format="json"), "imageUrl")
    variant = shirt.variants.first()
    body = {"changeQuantity": 1, "type": "ADJUSTMENT", "reason": 42}
    assert_refused(admin.post(f"/products/stock/adjust/{variant.id}", body, format="json"), "reason")
    assert_refused(admin.post(f"/products/{shirt.id}/categories", {"categoryIds": [1]}, format="json"), "categoryIds")
    assert_refused(admin.delete(f"/products/{shirt.id}/images", {"imageIds": [1]}, format="json"), "imageIds")


@pytest.mark.parametrize(
    "price", ["١٢", "۱۲", "１２", "1e3", "1_000", "Infinity", "NaN", "12,50", True, "0x10"], ids=repr
)
def test_money_is_ascii_digits_only(admin, shirt, price):
    response = admin.post("/products", new_product_body(variants=[{"price": price}]), format="json")
    assert_refused(response, "variants")
    variant = shirt.variants.first()
    response = admin.put(f"/products/{shirt.id}/variants/{variant.id}", {"price": price}, format="json")
    assert_refused(response, "price")
    response = admin.put(f"/products/{shirt.id}/variants/{variant.id}", {"costPrice": price}, format="json")
    assert_refused(response, "costPrice")
    variant.refresh_from_db()
    assert str(variant.price) == "39.90"


@pytest.mark.parametrize("price", [12, 12.5, "12", "12.50", " 12.5 ", "+12.5", "0", ".5", "12."], ids=repr)
def test_money_as_a_number_or_a_numeric_string_is_accepted(admin, shirt, price):
    variant = shirt.variants.first()
    response = admin.put(f"/products/{shirt.id}/variants/{variant.id}", {"price": price}, format="json")
    assert response.status_code == 200, response.json()
    assert Variant.objects.get(id=variant.id).price == Decimal(str(price).strip())
