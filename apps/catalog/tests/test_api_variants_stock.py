"""Variants under a product, stock adjust and history."""

import json
import uuid

import pytest
from django.db.models import Sum

from apps.catalog.models import StockMovement, Variant
from apps.catalog.tests import factories

pytestmark = pytest.mark.django_db


def test_list_and_get_variants(api_client, shirt):
    response = api_client.get(f"/products/{shirt.id}/variants")
    assert response.status_code == 200
    rows = response.json()
    assert [v["price"] for v in rows] == ["39.90", "44.00"]
    one = api_client.get(f"/products/{shirt.id}/variants/{rows[1]['id']}")
    assert one.status_code == 200 and one.json()["attributes"] == {"color": "blue", "size": "L"}
    other = factories.product("OTHER")
    assert api_client.get(f"/products/{other.id}/variants/{rows[1]['id']}").status_code == 404
    assert api_client.get(f"/products/{uuid.uuid4()}/variants").status_code == 404
    assert api_client.get(f"/products/{shirt.id}/variants/nope").status_code == 404
    assert api_client.get(f"/products/{other.id}/variants").json() == [factories_variant(other)]


def factories_variant(product):
    from apps.catalog.api.serializers import VariantSerializer

    return VariantSerializer(product.variants.get()).data


def test_create_variant(admin, shirt):
    body = {"attributes": {"color": "green", "size": "S"}, "price": "41.00", "initialStockQuantity": 3}
    response = admin.post(f"/products/{shirt.id}/variants", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["productId"] == str(shirt.id) and data["stockQuantity"] == 3 and data["price"] == "41.00"
    assert StockMovement.objects.get(variant_id=data["id"]).type == "INITIAL_STOCK"
    assert admin.post(f"/products/{shirt.id}/variants", {"price": "1.234"}, format="json").status_code == 400
    assert admin.post(f"/products/{shirt.id}/variants", {"attributes": {}}, format="json").status_code == 400
    assert admin.post(f"/products/{uuid.uuid4()}/variants", body, format="json").status_code == 404


@pytest.mark.parametrize(
    "attributes", [{"color": "\udfff"}, {"\ud800": "red"}, {"color": "re\x00d"}, {"col\x00or": "red"}]
)
def test_attributes_with_null_or_surrogate_characters_are_a_400_and_write_nothing(admin, shirt, attributes):
    def send(method, url, body):  # as a client sends them: JSON escapes (DRF's encoder refuses surrogates)
        return getattr(admin, method)(url, json.dumps(body), content_type="application/json")

    before = Variant.objects.count()
    body = {"attributes": attributes, "price": "41.00", "initialStockQuantity": 3}
    response = send("post", f"/products/{shirt.id}/variants", body)
    assert response.status_code == 400, response.content
    # A lone surrogate is refused by the JSON parser already; NUL by the attributes field.
    assert any(words in response.json()["message"] for words in ("null or surrogate", "Malformed request body"))
    variant = shirt.variants.order_by("price").first()
    assert send("put", f"/products/{shirt.id}/variants/{variant.id}", {"attributes": attributes}).status_code == 400
    new_product = {"sku": "NUL-1", "name": "Nul", "variants": [{"attributes": attributes, "price": "1.00"}]}
    assert send("post", "/products", new_product).status_code == 400
    assert Variant.objects.count() == before
    assert admin.get(f"/products/id/{shirt.id}").status_code == 200


def test_update_variant_never_touches_stock(admin, shirt):
    variant = shirt.variants.order_by("price").first()
    url = f"/products/{shirt.id}/variants/{variant.id}"
    response = admin.put(url, {"price": 35, "stockQuantity": 999, "lowStockThreshold": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["price"] == "35.00" and response.json()["stockQuantity"] == 5
    assert response.json()["lowStockThreshold"] == 1
    assert admin.put(url, {"price": -2}, format="json").status_code == 400
    assert admin.put(f"/products/{shirt.id}/variants/{uuid.uuid4()}", {"price": 1}, format="json").status_code == 404


def test_delete_variant(admin, shirt):
    with_movements = shirt.variants.get(stock_quantity=5)
    response = admin.delete(f"/products/{shirt.id}/variants/{with_movements.id}")
    assert response.status_code == 409
    assert response.json() == {
        "message": "Cannot delete variant with existing stock movements.",
        "code": "VARIANT_HAS_STOCK_MOVEMENTS",
    }
    fresh = shirt.variants.get(stock_quantity=0)
    assert admin.delete(f"/products/{shirt.id}/variants/{fresh.id}").status_code == 204
    assert not Variant.objects.filter(id=fresh.id).exists()
    assert admin.delete(f"/products/{shirt.id}/variants/{fresh.id}").status_code == 404


def test_adjust_stock(admin, shirt):
    variant = shirt.variants.get(stock_quantity=5)
    order_id = str(uuid.uuid4())
    body = {"changeQuantity": -2, "type": "ADMIN_UPDATE", "reason": "broken", "relatedOrderId": order_id}
    response = admin.post(f"/products/stock/adjust/{variant.id}", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["message"] and data["newStockQuantity"] == 3
    movement = data["movement"]
    assert set(movement) == {"id", "variantId", "changeQuantity", "type", "timestamp", "reason", "relatedOrderId"}
    assert (movement["changeQuantity"], movement["type"], movement["relatedOrderId"]) == (-2, "ADMIN_UPDATE", order_id)
    response = admin.post(f"/products/stock/adjust/{variant.id}", {"changeQuantity": 10, "type": "ADJUSTMENT"},
                          format="json")  # fmt: skip
    assert response.json()["newStockQuantity"] == 13
    variant.refresh_from_db()
    ledger = StockMovement.objects.filter(variant=variant).aggregate(s=Sum("change_quantity"))["s"]
    assert variant.stock_quantity == 13 == ledger


@pytest.mark.parametrize(
    "body, message",
    [
        ({"changeQuantity": -6, "type": "ADMIN_UPDATE"}, "Insufficient stock for the requested decrease."),
        ({"changeQuantity": 0, "type": "ADMIN_UPDATE"}, None),
        ({"changeQuantity": 1.5, "type": "ADMIN_UPDATE"}, None),
        ({"changeQuantity": "abc", "type": "ADMIN_UPDATE"}, None),
        ({"changeQuantity": True, "type": "ADMIN_UPDATE"}, None),
        ({"type": "ADMIN_UPDATE"}, None),
        ({"changeQuantity": 1, "type": "STOLEN"}, None),
        ({"changeQuantity": 1}, None),
        ({"changeQuantity": 1, "type": "ADJUSTMENT", "relatedOrderId": "nope"}, None),
        ({"changeQuantity": 10**12, "type": "ADJUSTMENT"}, None),
    ],
)
def test_adjust_stock_refuses(admin, shirt, body, message):
    variant = shirt.variants.get(stock_quantity=5)
    response = admin.post(f"/products/stock/adjust/{variant.id}", body, format="json")
    assert response.status_code == 400, response.json()
    if message:
        assert response.json()["message"] == message
    variant.refresh_from_db()
    assert variant.stock_quantity == 5


def test_adjust_unknown_variant(admin, db):
    body = {"changeQuantity": 1, "type": "ADJUSTMENT"}
    assert admin.post(f"/products/stock/adjust/{uuid.uuid4()}", body, format="json").status_code == 404
    assert admin.post("/products/stock/adjust/nope", body, format="json").status_code == 404


def test_history_newest_first_with_limit(admin, shirt):
    variant = shirt.variants.get(stock_quantity=5)
    for change in (1, 2, 3):
        admin.post(f"/products/stock/adjust/{variant.id}", {"changeQuantity": change, "type": "ADJUSTMENT"},
                   format="json")  # fmt: skip
    response = admin.get(f"/products/stock/history/{variant.id}")
    assert response.status_code == 200
    assert [m["changeQuantity"] for m in response.json()] == [3, 2, 1, 5]
    assert [m["changeQuantity"] for m in admin.get(f"/products/stock/history/{variant.id}?limit=2").json()] == [3, 2]
    assert admin.get(f"/products/stock/history/{variant.id}?limit=0").status_code == 400
    assert admin.get(f"/products/stock/history/{uuid.uuid4()}").status_code == 404


def test_variant_alias_routes(api_client, admin, shirt):
    variant = shirt.variants.get(stock_quantity=0)
    assert api_client.get(f"/products/variants/{variant.id}").json()["id"] == str(variant.id)
    assert api_client.put(f"/products/variants/{variant.id}", {"price": 1}, format="json").status_code == 401
    response = admin.put(f"/products/variants/{variant.id}", {"price": 12}, format="json")
    assert response.status_code == 200 and response.json()["price"] == "12.00"
    assert admin.delete(f"/products/variants/{variant.id}").status_code == 204
    assert api_client.get(f"/products/variants/{variant.id}").status_code == 404
