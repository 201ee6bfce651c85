"""/products/categories: flat and tree lists, by id and slug, create, bulk, update, delete."""

import uuid

import pytest

from apps.catalog.models import Category
from apps.catalog.tests import factories
from apps.events.models import OutboxEvent
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db

CATEGORY_FIELDS = {
    "id", "name", "slug", "parentId", "imageUrl", "createdAt", "updatedAt", "isLeaf", "productCount",
    "subCategoryCount",
}  # fmt: skip


def test_flat_list_is_a_bare_array_ordered_by_name(api_client, tree, shirt):
    response = api_client.get("/products/categories?limit=100")
    assert response.status_code == 200
    rows = response.json()
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)
    by_slug = {r["slug"]: r for r in rows}
    assert set(by_slug["men"]) == CATEGORY_FIELDS
    assert by_slug["men"]["isLeaf"] is False and by_slug["men"]["subCategoryCount"] == 2
    assert by_slug["shirts"]["isLeaf"] is True and by_slug["shirts"]["productCount"] == 1
    assert by_slug["shirts"]["parentId"] == str(tree["men"].id)


def test_tree(api_client, tree, catalog_queries):
    factories.category("Gifts", "gifts")  # a root without children
    with catalog_queries(1):
        response = api_client.get("/products/categories?format=tree")
    assert response.status_code == 200
    roots = response.json()
    assert [r["slug"] for r in roots] == ["clothing", "electronics", "gifts"]
    assert "children" not in roots[2]
    clothing = roots[0]
    assert [c["slug"] for c in clothing["children"]] == ["men", "women"]
    assert [c["slug"] for c in clothing["children"][0]["children"]] == ["shirts", "trousers"]
    # As the original: `children` only where there are some (a leaf has none, not []).
    shirts = clothing["children"][0]["children"][0]
    assert "children" not in shirts and set(shirts) == CATEGORY_FIELDS
    electronics = roots[1]
    assert all("children" in node for node in (clothing, clothing["children"][0], electronics))


@pytest.mark.parametrize("by", ["id", "slug"])
def test_by_id_and_slug(api_client, tree, by):
    men = tree["men"]
    response = api_client.get(f"/products/categories/{by}/{getattr(men, by)}")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "men" and body["parent"]["slug"] == "clothing"
    assert [c["slug"] for c in body["children"]] == ["shirts", "trousers"]
    root = api_client.get("/products/categories/slug/clothing").json()
    assert root["parent"] is None
    # By id or slug a leaf keeps its (empty) children array, as the original's include did.
    leaf = api_client.get(f"/products/categories/{by}/{getattr(tree['shirts'], by)}").json()
    assert leaf["children"] == [] and leaf["parent"]["slug"] == "men"


@pytest.mark.parametrize(
    "url",
    [
        "/products/categories/id/nope",
        "/products/categories/id/2f1d3b7e-1c1a-4f6b-9a3e-5d2c8b7a6e11",
        "/products/categories/slug/nope",
    ],
)
def test_by_id_not_found(api_client, db, url):
    response = api_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"message": "Category not found"}


def test_create(admin, tree):
    body = {"name": "Shoes", "slug": "shoes", "parentId": str(tree["women"].id), "imageUrl": "/i.jpg",
            "description": "ignored"}  # fmt: skip
    response = admin.post("/products/categories", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == CATEGORY_FIELDS
    assert (data["isLeaf"], data["productCount"], data["subCategoryCount"]) == (True, 0, 0)
    assert data["parentId"] == str(tree["women"].id) and data["imageUrl"] == "/i.jpg"
    event = OutboxEvent.objects.using(alias_for("catalog")).get(event_type="CATEGORY_CREATED", aggregate_id=data["id"])
    assert event.payload["slug"] == "shoes"


@pytest.mark.parametrize(
    "body, status",
    [
        ({"name": "Dup", "slug": "men"}, 409),
        ({"name": "", "slug": "x"}, 400),
        ({"name": "Bad slug", "slug": "not a slug!"}, 400),
        ({"name": "Orphan", "slug": "orphan", "parentId": "00000000-0000-0000-0000-000000000007"}, 404),
        ({"name": "Bad parent", "slug": "bad-parent", "parentId": "nope"}, 400),
        ({"name": "Bad image", "slug": "bad-image", "imageUrl": "//evil.example/x.png"}, 400),
        ({"name": "Bad image", "slug": "bad-image", "imageUrl": "javascript:alert(1)"}, 400),
        ({"name": "Bad image", "slug": "bad-image", "imageUrl": "/" + "a" * 1000}, 400),
        ({"name": "CDN image", "slug": "cdn-image", "imageUrl": "https://cdn.example.com/c.jpg"}, 201),
    ],
)
def test_create_errors(admin, tree, body, status):
    assert admin.post("/products/categories", body, format="json").status_code == status


def test_depth_is_limited_and_parents_must_have_no_products(admin, tree, shirt):
    # shirts is at depth 3: no fourth level.
    response = admin.post("/products/categories", {"name": "Deep", "slug": "deep", "parentId": str(tree["shirts"].id)},
                          format="json")  # fmt: skip
    assert response.status_code in (400, 409)
    assert not Category.objects.filter(slug="deep").exists()
    # A leaf with products cannot become a parent.
    phones = tree["phones"]
    factories.product("PH", categories=[phones])
    response = admin.post("/products/categories", {"name": "Cases", "slug": "cases", "parentId": str(phones.id)},
                          format="json")  # fmt: skip
    assert response.status_code == 409


def test_bulk(admin, tree):
    items = [
        {"name": "Garden", "slug": "garden"},
        {"name": "Tools", "slug": "tools", "parentSlug": "garden"},
        {"name": "Hats", "slug": "hats", "parentId": str(tree["women"].id)},
    ]
    response = admin.post("/products/categories/bulk", items, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()["createdCategories"]
    assert [c["slug"] for c in created] == ["garden", "tools", "hats"]
    assert created[1]["parentId"] == created[0]["id"]
    before = Category.objects.count()
    response = admin.post("/products/categories/bulk", [{"name": "A", "slug": "a1"}, {"name": "B", "slug": "men"}],
                          format="json")  # fmt: skip
    assert response.status_code == 409
    assert Category.objects.count() == before


def test_update(admin, tree, shirt, catalog_commit):
    url = f"/products/categories/{tree['shirts'].id}"
    with catalog_commit():
        response = admin.put(url, {"name": "Formal shirts", "slug": "formal-shirts"}, format="json")
    assert response.status_code == 200
    assert response.json()["slug"] == "formal-shirts" and response.json()["productCount"] == 1
    # The products of a renamed category are re-published with the new names.
    event = OutboxEvent.objects.using(alias_for("catalog")).filter(event_type="PRODUCT_UPDATED").last()
    assert event.payload["category_slugs"] == ["formal-shirts"]
    assert admin.put(url, {"slug": "men"}, format="json").status_code == 409
    assert admin.put(f"/products/categories/{uuid.uuid4()}", {"name": "x"}, format="json").status_code == 404
    assert admin.put(url, {"imageUrl": "images/x.png"}, format="json").status_code == 400
    response = admin.put(url, {"imageUrl": "/images/images/x.png"}, format="json")
    assert response.status_code == 200 and response.json()["imageUrl"] == "/images/images/x.png"
    # Move under another parent, then to the root.
    response = admin.put(url, {"parentId": str(tree["women"].id)}, format="json")
    assert response.status_code == 200 and response.json()["parentId"] == str(tree["women"].id)
    response = admin.put(url, {"parentId": None}, format="json")
    assert response.status_code == 200 and response.json()["parentId"] is None


def _last_document(product_id):
    rows = OutboxEvent.objects.using(alias_for("catalog")).filter(event_type="PRODUCT_UPDATED")
    return rows.filter(aggregate_id=str(product_id)).order_by("id").last()


def test_renaming_or_moving_a_parent_category_republishes_the_products_below_it(admin, tree, shirt, catalog_commit):
    # A product document carries the slugs of its categories' ancestors (category_path_slugs: a
    # search on a parent category finds the products of its leaves), so a change above the leaf
    # changes the documents of every product below it. They are republished after the commit.
    with catalog_commit():
        response = admin.put(f"/products/categories/{tree['men'].id}", {"slug": "gentlemen"}, format="json")
    assert response.status_code == 200
    assert _last_document(shirt.id).payload["category_path_slugs"] == ["shirts", "gentlemen", "clothing"]
    electronics = f"/products/categories/{tree['electronics'].id}"
    assert admin.put(electronics, {"parentId": str(tree["clothing"].id)}, format="json").status_code == 200
    phone = factories.product("PHONE-1", "Phone", categories=[tree["phones"]])
    with catalog_commit():
        response = admin.put(electronics, {"parentId": None}, format="json")
    assert response.status_code == 200
    assert _last_document(phone.id).payload["category_path_slugs"] == ["phones", "electronics"]


def test_update_refuses_cycles_and_deep_moves(admin, tree):
    men = f"/products/categories/{tree['men'].id}"
    assert admin.put(men, {"parentId": str(tree["shirts"].id)}, format="json").status_code == 400
    assert admin.put(men, {"parentId": str(tree["men"].id)}, format="json").status_code == 400
    # men has two levels (men > shirts): under women it would make four.
    assert admin.put(men, {"parentId": str(tree["women"].id)}, format="json").status_code == 400


def test_delete(admin, tree, shirt):
    assert admin.delete(f"/products/categories/{tree['men'].id}").status_code == 409  # has children
    assert admin.delete(f"/products/categories/{tree['shirts'].id}").status_code == 409  # has products
    response = admin.delete(f"/products/categories/{tree['dresses'].id}")
    assert response.status_code == 204
    assert not Category.objects.filter(slug="dresses").exists()
    assert admin.delete(f"/products/categories/{tree['dresses'].id}").status_code == 404
    assert admin.delete("/products/categories/nope").status_code == 404
