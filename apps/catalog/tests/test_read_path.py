"""The product list's values() read path and the read caches (category list, product detail)."""

from decimal import Decimal

import orjson
import pytest
from django.core.cache import cache
from django.http import QueryDict

from apps.catalog import cache as catalog_cache
from apps.catalog import services
from apps.catalog.api.filters import filtered_products
from apps.catalog.api.serializers import ProductListSerializer
from apps.catalog.listing import product_list_page
from apps.catalog.tests import factories
from ecommerce.renderers import JSONRenderer

pytestmark = pytest.mark.django_db


def wire(data):
    return orjson.loads(JSONRenderer().render(data))


@pytest.fixture
def cached(settings):
    settings.CATALOG_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def catalogue(tree, shirt):
    bare = factories.product("BARE-1", "No variants, images or categories", variants=[], description=None)
    two = factories.product(
        "TWO-CATS",
        "Two categories",
        categories=[tree["shirts"], tree["phones"]],
        variants=[
            {"attributes": {}, "price": Decimal("0.50"), "cost_price": Decimal("0.10"), "low_stock_threshold": None},
            {"attributes": {"size": "XL", "fit": "slim"}, "price": Decimal("1234.00"), "initial_stock_quantity": 3},
        ],
        images=[{"image_url": "/x.jpg", "alt_text": "x", "is_primary": True}],
    )
    return [shirt, bare, two]


@pytest.mark.parametrize(
    "query",
    ["", "sortBy=name&sortOrder=asc", "sortBy=price&sortOrder=desc", "categorySlug=clothing", "q=shirt&inStock=true"],
)
def test_list_page_is_exactly_the_serializers_json(catalogue, query):
    queryset = filtered_products(QueryDict(query))
    expected = ProductListSerializer(list(queryset[0:50]), many=True).data
    assert wire(product_list_page(filtered_products(QueryDict(query)), 0, 50)) == wire(expected)
    assert wire(product_list_page(filtered_products(QueryDict(query)), 1, 1)) == wire(expected[1:2])


def test_list_page_past_the_end_is_empty_without_more_queries(catalogue, catalog_queries):
    with catalog_queries(1):
        assert product_list_page(filtered_products(QueryDict("")), 100, 10) == []


def test_list_endpoint_answers_the_serializers_json(api_client, catalogue):
    body = api_client.get("/products?limit=10&sortBy=name&sortOrder=asc").json()
    queryset = filtered_products(QueryDict("sortBy=name&sortOrder=asc"))
    assert body["data"] == wire(ProductListSerializer(list(queryset), many=True).data)
    assert body["pagination"] == {"total": 3, "page": 1, "limit": 10, "totalPages": 1}


# --- caches -------------------------------------------------------------------------------------


def test_detail_is_served_from_the_cache_until_the_product_changes(api_client, shirt, cached, catalog_queries):
    first = api_client.get(f"/products/id/{shirt.id}").json()
    with catalog_queries(0):
        assert api_client.get(f"/products/id/{shirt.id}").json() == first
    services.update_product(shirt.id, {"name": "Renamed shirt"})
    assert api_client.get(f"/products/id/{shirt.id}").json()["name"] == "Renamed shirt"


def test_a_stock_movement_refreshes_the_detail(api_client, shirt, cached):
    variant = factories.variant_of(shirt)
    before = api_client.get(f"/products/id/{shirt.id}").json()
    stock = {v["id"]: v["stockQuantity"] for v in before["variants"]}[str(variant.id)]
    services.adjust_stock(variant.id, 4, "ADJUSTMENT")
    after = api_client.get(f"/products/id/{shirt.id}").json()
    assert {v["id"]: v["stockQuantity"] for v in after["variants"]}[str(variant.id)] == stock + 4


def test_a_deleted_product_is_not_served_from_the_cache(api_client, shirt, cached):
    assert api_client.get(f"/products/id/{shirt.id}").status_code == 200
    services.delete_product(shirt.id)
    assert api_client.get(f"/products/id/{shirt.id}").status_code == 404


def test_unknown_product_is_not_cached(api_client, cached):
    missing = "00000000-0000-4000-8000-000000000000"
    assert api_client.get(f"/products/id/{missing}").status_code == 404
    assert cache.get(catalog_cache.detail_key(missing)) is None


def test_category_list_is_cached_and_follows_links_and_categories(api_client, tree, shirt, cached, catalog_queries):
    def counts():
        return {r["slug"]: r["productCount"] for r in api_client.get("/products/categories").json()}

    assert counts()["shirts"] == 1
    with catalog_queries(0):
        assert api_client.get("/products/categories?format=tree").status_code == 200
    other = factories.product("P-2", categories=[tree["shirts"]])
    assert counts()["shirts"] == 2
    services.detach_categories(other.id, [str(tree["shirts"].id)])
    assert counts()["shirts"] == 1
    factories.category("Hats", "hats", parent=tree["men"])
    assert "hats" in counts()


def test_a_stock_movement_keeps_the_category_list_cached(api_client, shirt, cached, catalog_queries):
    api_client.get("/products/categories")
    services.adjust_stock(factories.variant_of(shirt).id, 1, "ADJUSTMENT")
    with catalog_queries(0):
        api_client.get("/products/categories")


def test_cache_outage_falls_back_to_the_database(api_client, shirt, cached, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    monkeypatch.setattr(cache, "delete_many", broken)
    assert api_client.get(f"/products/id/{shirt.id}").json()["sku"] == "SHIRT-1"
    assert api_client.get("/products/categories").status_code == 200
    services.update_product(shirt.id, {"name": "Still works"})


def test_caches_off_with_zero_seconds(api_client, shirt, settings, catalog_queries):
    settings.CATALOG_CACHE_SECONDS = 0
    api_client.get(f"/products/id/{shirt.id}")
    with catalog_queries(4):
        api_client.get(f"/products/id/{shirt.id}")
