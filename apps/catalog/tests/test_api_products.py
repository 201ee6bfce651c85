"""/products: list with filters and sorting, detail, create, bulk, update, delete, links, images."""

import uuid

import pytest

from apps.catalog.models import Product, StockMovement, Variant
from apps.catalog.tests import factories
from apps.events.models import OutboxEvent
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def outbox(event_type=None):
    rows = OutboxEvent.objects.using(alias_for("catalog")).order_by("id")
    return rows.filter(event_type=event_type) if event_type else rows


def new_product_body(**overrides):
    body = {
        "sku": "NEW-1",
        "name": "Linen shirt",
        "description": "Light",
        "isActive": True,
        "categoryIds": [],
        "variants": [
            {
                "sku": "ignored-by-the-api",
                "attributes": {"Color": "Sand", "Size": "S"},
                "price": 29.9,
                "costPrice": "12.00",
                "lowStockThreshold": 2,
                "initialStockQuantity": 7,
            }
        ],
        "images": [{"imageUrl": "/images/images/x.jpg", "altText": "front", "isPrimary": True, "order": 0}],
    }
    body.update(overrides)
    return body


# --- list ------------------------------------------------------------------------------------


def test_list_envelope_and_item_shape(api_client, shirt):
    response = api_client.get("/products")
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"total": 1, "page": 1, "limit": 10, "totalPages": 1}
    item = body["data"][0]
    assert set(item) == {
        "id", "sku", "name", "description", "isActive", "createdAt", "updatedAt", "variants", "categories", "images",
    }  # fmt: skip
    assert item["categories"] == [{"category": {"id": str(shirt.product_categories.get().category_id),
                                                 "name": "Shirts", "slug": "shirts"}}]  # fmt: skip
    assert [i["imageUrl"] for i in item["images"]] == ["/images/images/a.jpg", "/images/images/b.jpg"]
    variant = item["variants"][0]
    assert variant["price"] == "39.90" and variant["costPrice"] is None
    assert set(variant) == {
        "id", "productId", "attributes", "price", "costPrice", "stockQuantity", "lowStockThreshold", "createdAt",
        "updatedAt",
    }  # fmt: skip
    assert item["createdAt"].endswith("Z")


def test_list_pagination(api_client, tree):
    for n in range(12):
        factories.product(f"P-{n:02d}", f"Product {n:02d}")
    body = api_client.get("/products?page=2&limit=5&sortBy=sku&sortOrder=asc").json()
    assert [p["sku"] for p in body["data"]] == ["P-05", "P-06", "P-07", "P-08", "P-09"]
    assert body["pagination"] == {"total": 12, "page": 2, "limit": 5, "totalPages": 3}
    assert api_client.get("/products?page=9").json()["data"] == []
    assert api_client.get("/products?limit=1000").json()["pagination"]["limit"] == 100
    assert api_client.get("/products?page=0").status_code == 400
    assert api_client.get("/products?limit=abc").status_code == 400
    # ASCII digits only: int() would read these as 12 and 10.
    assert api_client.get("/products?limit=١٢").status_code == 400
    assert api_client.get("/products?page=1_0").status_code == 400


@pytest.mark.parametrize(
    "query",
    ["sortBy=password", "sortBy=createdAt&sortOrder=sideways", "isActive=maybe", "minPrice=abc", "maxPrice=-1",
     "inStock=perhaps", "attributes[a__b]=x", "minPrice=١٢", "maxPrice=1e999999", "minPrice=1_000"],
)  # fmt: skip
def test_list_refuses_bad_parameters(api_client, query):
    response = api_client.get(f"/products?{query}")
    assert response.status_code == 400
    assert response.json()["message"]


def test_list_filters(api_client, tree, shirt):
    from decimal import Decimal

    phone = factories.product(
        "PHONE-1",
        "Pocket phone",
        description="Has a great camera",
        categories=[tree["phones"]],
        variants=[{"attributes": {"color": "black"}, "price": Decimal("499.00"), "initial_stock_quantity": 0}],
    )
    hidden = factories.product("OLD-1", "Old shirt", categories=[tree["trousers"]], is_active=False)

    def skus(query):
        response = api_client.get(f"/products?{query}&sortBy=sku&sortOrder=asc")
        assert response.status_code == 200, response.json()
        return [p["sku"] for p in response.json()["data"]]

    assert skus("q=camera") == ["PHONE-1"]
    assert skus("q=shirt-1") == ["SHIRT-1"]
    assert skus("name=oxford") == ["SHIRT-1"]  # the admin's stock page sends `name`
    assert skus("categorySlug=clothing") == ["OLD-1", "SHIRT-1"]  # descendants of a non-leaf category
    assert skus("categorySlug=men&isActive=true") == ["SHIRT-1"]
    assert skus("isActive=false") == ["OLD-1"]
    assert skus("categorySlug=nope") == []
    assert skus("minPrice=400") == ["PHONE-1"]
    assert skus("minPrice=40&maxPrice=45") == ["SHIRT-1"]
    assert skus("maxPrice=19.90") == ["OLD-1"]
    assert skus("inStock=true") == ["OLD-1", "SHIRT-1"]
    assert skus("attributes[color]=BLUE") == ["SHIRT-1"]
    # One variant must match every variant filter: the blue one is out of stock.
    assert skus("attributes[color]=blue&inStock=true") == []
    assert skus("attributes[color]=blue&attributes[color]=black") == ["PHONE-1", "SHIRT-1"]
    assert skus("attributes[color][]=white&attributes[size]=M") == ["SHIRT-1"]
    assert phone and hidden


def test_list_sorting(api_client, tree):
    from decimal import Decimal

    for sku, name, price in [("A", "Zebra", "5.00"), ("B", "Apple", "50.00"), ("C", "Mango", "20.00")]:
        factories.product(sku, name, variants=[{"attributes": {}, "price": Decimal(price)}])

    def skus(query):
        return [p["sku"] for p in api_client.get(f"/products?{query}").json()["data"]]

    assert skus("sortBy=name&sortOrder=asc") == ["B", "C", "A"]
    assert skus("sortBy=price&sortOrder=asc") == ["A", "C", "B"]
    assert skus("sortBy=price&sortOrder=desc") == ["B", "C", "A"]
    assert skus("sortBy=createdAt&sortOrder=asc") == ["A", "B", "C"]
    assert skus("") == ["C", "B", "A"]  # newest first by default


def test_list_and_detail_query_counts_do_not_grow(api_client, tree, catalog_queries):
    for n in range(3):
        factories.product(categories=[tree["shirts"]], images=[{"image_url": f"/i/{n}.jpg"}])
    with catalog_queries(5):  # count, products, variants, category links, images
        small = api_client.get("/products?limit=3")
    for n in range(20):
        factories.product(categories=[tree["shirts"], tree["dresses"]], images=[{"image_url": f"/j/{n}.jpg"}])
    with catalog_queries(5):
        large = api_client.get("/products?limit=23")
    assert len(small.json()["data"]) == 3 and len(large.json()["data"]) == 23
    with catalog_queries(6):  # + the category tree for categorySlug
        api_client.get("/products?categorySlug=clothing&limit=50")
    product_id = large.json()["data"][0]["id"]
    with catalog_queries(4):
        api_client.get(f"/products/id/{product_id}")


# --- detail ----------------------------------------------------------------------------------


def test_detail_by_id_and_sku(api_client, shirt):
    for url in (f"/products/id/{shirt.id}", "/products/sku/SHIRT-1"):
        response = api_client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == str(shirt.id)
        link = body["categories"][0]
        assert link["productId"] == str(shirt.id)
        assert set(link["category"]) == {"id", "name", "slug", "parentId", "imageUrl", "createdAt", "updatedAt"}


@pytest.mark.parametrize(
    "url", ["/products/id/not-a-uuid", "/products/id/2f1d3b7e-1c1a-4f6b-9a3e-5d2c8b7a6e11", "/products/sku/NOPE"]
)
def test_detail_not_found(api_client, db, url):
    response = api_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"message": "Product not found"}


# --- create ----------------------------------------------------------------------------------


def test_create_product(admin, tree):
    response = admin.post("/products", new_product_body(categoryIds=[str(tree["shirts"].id)]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sku"] == "NEW-1" and body["categories"][0]["category"]["slug"] == "shirts"
    variant = body["variants"][0]
    assert variant["price"] == "29.90" and variant["costPrice"] == "12.00" and variant["stockQuantity"] == 7
    assert variant["attributes"] == {"Color": "Sand", "Size": "S"}
    assert body["images"][0]["isPrimary"] is True
    movement = StockMovement.objects.get(variant_id=variant["id"])
    assert (movement.type, movement.change_quantity) == ("INITIAL_STOCK", 7)
    event = outbox("PRODUCT_CREATED").get(aggregate_id=body["id"])
    assert event.topic == "product_events"
    payload = event.payload
    assert payload["category_names"] == ["Shirts"] and payload["category_slugs"] == ["shirts"]
    assert payload["category_path_slugs"] == ["shirts", "men", "clothing"]
    assert payload["variants"] == [
        {"id": variant["id"], "attributes": {"Color": "Sand", "Size": "S"}, "price": "29.90", "stockQuantity": 7}
    ]
    assert sorted(payload["variant_attributes_flat"]) == ["Color:Sand", "Size:S"]
    assert payload["images"][0]["imageUrl"] == "/images/images/x.jpg"


def test_create_minimal_product(admin, db):
    response = admin.post("/products", {"sku": "MIN", "name": "Minimal"}, format="json")
    assert response.status_code == 201
    assert response.json()["variants"] == [] and response.json()["isActive"] is True


@pytest.mark.parametrize(
    "override, field",
    [
        ({"sku": ""}, "sku"),
        ({"name": None}, "name"),
        ({"variants": [{"price": "19.999"}]}, "variants"),
        ({"variants": [{"price": -1}]}, "variants"),
        ({"variants": [{"price": "abc"}]}, "variants"),
        ({"variants": [{"price": 1, "costPrice": "-0.01"}]}, "variants"),
        ({"variants": [{"price": 1, "initialStockQuantity": -3}]}, "variants"),
        ({"variants": [{"price": 1, "attributes": ["red"]}]}, "variants"),
        ({"variants": [{"price": 1, "attributes": {"color": {"nested": 1}}}]}, "variants"),
        ({"categoryIds": ["not-a-uuid"]}, "categoryIds"),
        ({"images": [{"altText": "no url"}]}, "images"),
        ({"images": [{"imageUrl": "javascript:alert(1)"}]}, "images"),
        ({"images": [{"imageUrl": "//evil.example/x.png"}]}, "images"),
        ({"images": [{"imageUrl": "x.png"}]}, "images"),
        ({"isActive": "sometimes"}, "isActive"),
    ],
)
def test_create_refuses_bad_input(admin, db, override, field):
    response = admin.post("/products", new_product_body(**override), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Product.objects.exists()


def test_create_missing_fields_and_malformed_json(admin, db):
    response = admin.post("/products", {"description": "no sku"}, format="json")
    assert response.status_code == 400
    assert {"sku", "name"} <= set(response.json()["errors"])
    response = admin.post("/products", "{not json", content_type="application/json")
    assert response.status_code == 400
    response = admin.post("/products", [1, 2], format="json")
    assert response.status_code == 400


def test_create_conflicts(admin, tree, shirt):
    response = admin.post("/products", new_product_body(sku="SHIRT-1"), format="json")
    assert response.status_code == 409
    response = admin.post("/products", new_product_body(categoryIds=[str(tree["men"].id)]), format="json")
    assert response.status_code == 409
    assert "leaf" in response.json()["message"]
    response = admin.post("/products", new_product_body(categoryIds=[str(uuid.uuid4())]), format="json")
    assert response.status_code == 400
    assert Product.objects.count() == 1


def test_huge_json_is_413(admin, db):
    body = new_product_body(description="x" * (2 * 1024 * 1024))
    response = admin.post("/products", body, format="json")
    assert response.status_code == 413
    assert response.json() == {"message": "Request body too large."}


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_create_all(admin, tree):
    items = [
        new_product_body(sku="B-1", categorySlugs=["shirts"]),
        new_product_body(sku="B-2", categoryIds=[str(tree["dresses"].id)], variants=[]),
    ]
    response = admin.post("/products/bulk", items, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"]
    assert [p["sku"] for p in body["createdProducts"]] == ["B-1", "B-2"]
    assert Product.objects.get(sku="B-1").categories.get().slug == "shirts"
    assert outbox("PRODUCT_CREATED").count() == 2
    wrapped = admin.post("/products/bulk", {"products": [new_product_body(sku="B-3")]}, format="json")
    assert wrapped.status_code == 201


@pytest.mark.parametrize(
    "items, status",
    [
        ([{"sku": "OK-1", "name": "ok"}, {"sku": "SHIRT-1", "name": "dup of existing"}], 409),
        ([{"sku": "OK-1", "name": "ok"}, {"sku": "OK-1", "name": "dup in batch"}], 409),
        ([{"sku": "OK-1", "name": "ok"}, {"sku": "OK-2", "name": "x", "categorySlugs": ["men"]}], 409),
        ([{"sku": "OK-1", "name": "ok"}, {"sku": "OK-2", "name": "x", "categorySlugs": ["missing"]}], 400),
        ([{"sku": "OK-1", "name": "ok"}, {"sku": "OK-2", "name": "x", "variants": [{"price": "1.001"}]}], 400),
        ([], 400),
        ({"sku": "OK-1"}, 400),
    ],
)
def test_bulk_is_all_or_nothing(admin, shirt, items, status):
    before = Product.objects.count()
    response = admin.post("/products/bulk", items, format="json")
    assert response.status_code == status, response.json()
    assert Product.objects.count() == before


# --- update / delete -------------------------------------------------------------------------


def test_update_is_partial(admin, shirt):
    response = admin.put(f"/products/{shirt.id}", {"name": "Renamed", "isActive": False}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["isActive"], body["sku"], body["description"]) == (
        "Renamed",
        False,
        "SHIRT-1",
        "A thing",
    )
    assert outbox("PRODUCT_UPDATED").last().payload["name"] == "Renamed"


def test_update_errors(admin, shirt):
    other = factories.product("OTHER")
    assert admin.put(f"/products/{other.id}", {"sku": "SHIRT-1"}, format="json").status_code == 409
    assert admin.put(f"/products/{uuid.uuid4()}", {"name": "x"}, format="json").status_code == 404
    assert admin.put("/products/nope", {"name": "x"}, format="json").status_code == 404
    assert admin.put(f"/products/{other.id}", {"name": ""}, format="json").status_code == 400


def test_delete_product(admin, shirt):
    response = admin.delete(f"/products/{shirt.id}")
    assert response.status_code == 204 and response.content == b""
    assert not Product.objects.filter(id=shirt.id).exists()
    assert not Variant.objects.filter(product_id=shirt.id).exists()
    # The last version + 1: the product was created (version 1), the delete is version 2.
    assert outbox("PRODUCT_DELETED").get().payload == {"id": str(shirt.id), "version": 2}
    assert admin.delete(f"/products/{shirt.id}").status_code == 404


# --- category links --------------------------------------------------------------------------


def test_attach_and_detach_categories(admin, tree, shirt):
    url = f"/products/{shirt.id}/categories"
    response = admin.post(url, {"categoryIds": [str(tree["dresses"].id), str(tree["shirts"].id)]}, format="json")
    assert response.status_code == 201
    assert response.json() == {"message": f"Added categories to product {shirt.id}."}
    assert sorted(shirt.categories.values_list("slug", flat=True)) == ["dresses", "shirts"]
    assert admin.post(url, {"categoryIds": [str(tree["women"].id)]}, format="json").status_code == 409
    assert admin.post(url, {"categoryIds": [str(uuid.uuid4())]}, format="json").status_code == 404
    assert admin.post(url, {"categoryIds": []}, format="json").status_code == 400
    response = admin.delete(url, {"categoryIds": [str(tree["dresses"].id)]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"message": f"Removed 1 categories from product {shirt.id}."}
    assert outbox("PRODUCT_UPDATED").last().payload["category_slugs"] == ["shirts"]
    assert admin.post(f"/products/{uuid.uuid4()}/categories", {"categoryIds": [str(tree["shirts"].id)]},
                      format="json").status_code == 404  # fmt: skip


# --- images ----------------------------------------------------------------------------------


def test_add_images_bare_array_and_wrapped(admin, shirt):
    url = f"/products/{shirt.id}/images"
    response = admin.post(url, [{"imageUrl": "/images/images/c.jpg", "isPrimary": True, "order": 0}], format="json")
    assert response.status_code == 201
    assert response.json() == {"message": f"Added images to product {shirt.id}."}
    primaries = list(shirt.images.filter(is_primary=True).values_list("image_url", flat=True))
    assert primaries == ["/images/images/c.jpg"]  # the new primary cleared the old one
    response = admin.post(url, {"images": [{"imageUrl": "/images/images/d.jpg", "order": 9}]}, format="json")
    assert response.status_code == 201
    detail = admin.get(f"/products/id/{shirt.id}").json()
    assert [i["imageUrl"][-5:] for i in detail["images"]] == ["c.jpg", "a.jpg", "b.jpg", "d.jpg"]
    assert admin.post(url, [{"altText": "no url"}], format="json").status_code == 400
    assert admin.post(url, [{"imageUrl": "//evil.example/x.png"}], format="json").status_code == 400
    # Absolute http(s) URLs too (the original's IMAGE_BASE_URL form, a CDN).
    assert admin.post(url, [{"imageUrl": "https://cdn.example.com/e.jpg"}], format="json").status_code == 201
    assert admin.post(url, "nope", format="json").status_code == 400


def test_remove_images(admin, shirt):
    ids = [str(i) for i in shirt.images.values_list("id", flat=True)]
    url = f"/products/{shirt.id}/images"
    response = admin.delete(url, {"imageIds": [ids[0], "junk", str(uuid.uuid4())]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"message": f"Removed 1 images from product {shirt.id}."}
    assert shirt.images.count() == 1
    assert admin.delete(url, {}, format="json").status_code == 400
