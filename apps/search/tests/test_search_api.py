"""Behaviour of GET /search/products, the same for every backend (see conftest ``search``)."""

import uuid
from datetime import UTC, datetime

import pytest

from apps.search.tests.conftest import make_product, send

pytestmark = pytest.mark.django_db


# --- relevance ------------------------------------------------------------------------------


def test_exact_name_match_ranks_above_description_match(search):
    search.add(make_product("Desk Lamp", description="Perfect beside your monitor"))
    search.add(make_product("Gaming Monitor", description="27 inch, 144 Hz"))
    search.add(make_product("Keyboard", description="Mechanical"))
    assert search.names(q="monitor") == ["Gaming Monitor", "Desk Lamp"]


def test_typo_finds_the_word(search):
    search.add(make_product("UltraWide Monitor"), make_product("Office Chair"))
    assert search.names(q="moniter") == ["UltraWide Monitor"]
    assert search.names(q="ofice chiar") == ["Office Chair"]


def test_every_word_must_match_in_some_field(search):
    search.add(
        make_product("Monitor", category_names=["Screens"], attributes={"color": "black"}),
        make_product("Monitor Arm", category_names=["Desk"], attributes={"color": "white"}),
    )
    assert search.names(q="monitor black") == ["Monitor"]
    assert search.names(q="monitor desk") == ["Monitor Arm"]
    assert search.names(q="monitor purple") == []


def test_sku_category_and_accents_are_searched(search):
    search.add(
        make_product("Écran Pro", sku="EC-2024-PRO"),
        make_product("Cable", category_names=["Accessories"]),
    )
    assert search.names(q="ecran") == ["Écran Pro"]
    assert search.names(q="EC-2024-PRO") == ["Écran Pro"]
    assert search.names(q="accessories") == ["Cable"]
    assert search.get(q="!!!")["data"] == []


def test_results_are_the_payload_with_string_prices(search):
    payload = search.add(
        make_product(
            "Mouse",
            variants=[{"price": "19.9", "stockQuantity": 3, "attributes": {"color": "red"}}],
            category_names=["Peripherals"],
            category_slugs=["peripherals"],
            images=[{"id": "i1", "imageUrl": "/images/m.png", "altText": "m", "isPrimary": True, "order": 0}],
        )
    )
    (item,) = search.get(q="mouse")["data"]
    assert item["id"] == payload["id"]
    assert item["variants"][0]["price"] == "19.90"
    assert item["variants"][0]["stockQuantity"] == 3
    assert item["variants"][0]["attributes"] == {"color": "red"}
    assert item["category_names"] == ["Peripherals"]
    assert item["variant_attributes_flat"] == ["color:red"]
    assert item["images"][0]["imageUrl"] == "/images/m.png"
    assert item["isActive"] is True
    assert not any(key.startswith("search_") for key in item)


# --- filters --------------------------------------------------------------------------------


def test_category_filter(search):
    search.add(
        make_product("Mouse", category_slugs=["peripherals", "computers"]),
        make_product("Sofa", category_slugs=["furniture"]),
    )
    assert search.names(category="peripherals") == ["Mouse"]
    assert search.names(category="computers") == ["Mouse"]
    assert search.names(category="nothing") == []


def test_category_filter_includes_descendants_and_the_facet_counts_own_categories(search):
    search.add(
        make_product("Oxford Shirt", category_slugs=["shirts"], category_path_slugs=["shirts", "men", "clothing"]),
        make_product("Summer Dress", category_slugs=["dresses"], category_path_slugs=["dresses", "women", "clothing"]),
        make_product("Phone", category_slugs=["phones"], category_path_slugs=["phones", "electronics"]),
    )
    body = search.get(category="clothing", sortBy="name", sortOrder="asc")
    assert [p["name"] for p in body["data"]] == ["Oxford Shirt", "Summer Dress"]
    assert body["facets"]["categories"] == [{"slug": "dresses", "count": 1}, {"slug": "shirts", "count": 1}]
    assert search.names(category="men") == ["Oxford Shirt"]


def test_price_range_matches_any_variant(search):
    search.add(make_product("Shirt", variants=[{"price": "30.00"}, {"price": "150.00"}]))
    search.add(make_product("Coat", variants=[{"price": "250.00"}]))
    assert search.names(minPrice="100", maxPrice="200") == ["Shirt"]
    assert search.names(minPrice="40", maxPrice="100") == []
    assert search.names(minPrice="150.00", maxPrice="150") == ["Shirt"]
    assert sorted(search.names(minPrice="100")) == ["Coat", "Shirt"]
    assert search.names(maxPrice="29.99") == []


def test_in_stock_filter_needs_one_variant_with_stock_in_the_price_range(search):
    search.add(
        make_product("Boots", variants=[{"price": "80", "stockQuantity": 0}, {"price": "120", "stockQuantity": 2}])
    )
    search.add(make_product("Sandals", variants=[{"price": "40", "stockQuantity": 0}]))
    assert search.names(inStock="true") == ["Boots"]
    assert sorted(search.names(inStock="false")) == ["Boots", "Sandals"]
    assert search.names(inStock="true", maxPrice="100") == []
    assert search.names(inStock="true", minPrice="100") == ["Boots"]


def test_attribute_filters_or_within_a_name_and_across_names(search):
    search.add(
        make_product("Red M", attributes={"color": "red", "size": "M"}),
        make_product("Blue M", attributes={"color": "blue", "size": "M"}),
        make_product("Red L", attributes={"color": "red", "size": "L"}),
    )
    assert sorted(search.names(**{"attributes[color]": "red"})) == ["Red L", "Red M"]
    assert sorted(search.names(**{"attributes[color][]": ["red", "blue"]})) == ["Blue M", "Red L", "Red M"]
    assert sorted(search.names(**{"attributes[color][]": ["red", "blue"], "attributes[size][]": "M"})) == [
        "Blue M",
        "Red M",
    ]
    assert search.names(**{"attributes[color]": "green"}) == []


def test_inactive_products_are_not_returned(search):
    search.add(make_product("Old Phone", isActive=False), make_product("New Phone"))
    body = search.get(q="phone")
    assert [p["name"] for p in body["data"]] == ["New Phone"]
    assert body["pagination"]["total"] == 1


# --- facets ---------------------------------------------------------------------------------


def test_facets_are_computed_on_the_filtered_results(search):
    search.add(
        make_product(
            "Cheap Lamp",
            category_slugs=["lighting"],
            variants=[
                {"price": "10", "attributes": {"color": "red"}},
                {"price": "49.99", "attributes": {"color": "blue"}},
            ],
        ),
        make_product("Floor Lamp", category_slugs=["lighting", "furniture"], price="150", attributes={"color": "red"}),
        make_product("Designer Lamp", category_slugs=["lighting"], price="500", attributes={"color": "gold"}),
        make_product("Table", category_slugs=["furniture"], price="75", attributes={"material": "oak"}),
    )
    facets = search.get(q="lamp")["facets"]
    assert facets["categories"] == [{"slug": "lighting", "count": 3}, {"slug": "furniture", "count": 1}]
    attributes = {a["name"]: {o["value"]: o["count"] for o in a["options"]} for a in facets["attributes"]}
    assert attributes == {"color": {"red": 2, "blue": 1, "gold": 1}}
    assert facets["price_ranges"] == [
        {"key": "*-50.0", "to": 50.0, "count": 1},
        {"key": "100.0-200.0", "from": 100.0, "to": 200.0, "count": 1},
        {"key": "500.0-*", "from": 500.0, "count": 1},
    ]
    facets = search.get(category="furniture")["facets"]
    assert facets["categories"] == [{"slug": "furniture", "count": 2}, {"slug": "lighting", "count": 1}]
    assert [b["key"] for b in facets["price_ranges"]] == ["50.0-100.0", "100.0-200.0"]
    assert search.get(q="nothingmatches")["facets"] == {"categories": [], "attributes": [], "price_ranges": []}


# --- sorting and paging ---------------------------------------------------------------------


def test_sorting(search):
    search.add(
        make_product("banana", variants=[{"price": "5"}, {"price": "100"}]),
        make_product("Apple", price="20"),
        make_product("cherry", price="60"),
    )
    assert search.names(sortBy="price", sortOrder="asc") == ["banana", "Apple", "cherry"]
    assert search.names(sortBy="price", sortOrder="desc") == ["banana", "cherry", "Apple"]
    assert search.names(sortBy="createdAt", sortOrder="asc") == ["banana", "Apple", "cherry"]
    assert search.names(sortBy="createdAt") == ["cherry", "Apple", "banana"]
    assert search.names(sortBy="name", sortOrder="asc") == ["Apple", "banana", "cherry"]
    assert search.names(sortBy="name", sortOrder="DESC") == ["cherry", "banana", "Apple"]
    assert search.names() == ["cherry", "Apple", "banana"]  # no text: newest first


def test_pagination(search):
    for i in range(7):
        search.add(make_product(f"Widget {i}"))
    body = search.get(q="widget", limit=3, page=2, sortBy="createdAt", sortOrder="asc")
    assert [p["name"] for p in body["data"]] == ["Widget 3", "Widget 4", "Widget 5"]
    assert body["pagination"] == {"total": 7, "page": 2, "limit": 3, "totalPages": 3}
    assert search.get(q="widget", limit=3, page=4)["data"] == []
    assert search.get()["pagination"]["limit"] == 24


def test_pages_tile_the_ordered_results_in_every_order(search):
    """Paging never loses, repeats or reorders a result, in any order, ties included (equal
    prices: newest first), and the total and facets do not depend on the page. The price facet
    counts a product once in each range one of its variants falls in."""
    search.add(
        make_product("Oak Shelf", variants=[{"price": "10"}, {"price": "75"}, {"price": "600"}]),
        make_product("Pine Shelf", price="75", category_slugs=["wood"], attributes={"wood": "pine"}),
        make_product("Birch Shelf", price="75", category_slugs=["wood"], attributes={"wood": "birch"}),
        make_product("Steel Shelf", price="150"),
        make_product("Glass Shelf", variants=[{"price": "49.99"}, {"price": "50"}]),
        make_product("Shelf", price="75"),
        make_product("Corner Shelf Unit", price="300", description="shelf"),
    )
    orders = [
        {"sortBy": "price", "sortOrder": "asc"},
        {"sortBy": "price", "sortOrder": "desc"},
        {"sortBy": "createdAt", "sortOrder": "asc"},
        {"sortBy": "name", "sortOrder": "desc"},
        {"sortBy": "_score"},
    ]
    for order in orders:
        whole = search.get(q="shelf", limit=100, **order)
        assert whole["pagination"]["total"] == 7
        pages = [search.get(q="shelf", limit=2, page=page, **order) for page in (1, 2, 3, 4, 5)]
        assert [p["name"] for body in pages for p in body["data"]] == [p["name"] for p in whole["data"]], order
        assert {body["pagination"]["total"] for body in pages} == {7}
        assert all(body["facets"] == whole["facets"] for body in pages), order
    assert search.names(q="shelf", sortBy="price", sortOrder="asc")[:5] == [
        "Oak Shelf",
        "Glass Shelf",
        "Shelf",
        "Birch Shelf",
        "Pine Shelf",
    ]
    assert whole["facets"]["price_ranges"] == [
        {"key": "*-50.0", "to": 50.0, "count": 2},
        {"key": "50.0-100.0", "from": 50.0, "to": 100.0, "count": 5},
        {"key": "100.0-200.0", "from": 100.0, "to": 200.0, "count": 1},
        {"key": "200.0-500.0", "from": 200.0, "to": 500.0, "count": 1},
        {"key": "500.0-*", "from": 500.0, "count": 1},
    ]


# --- keeping in sync with the catalogue -----------------------------------------------------


def test_updates_are_visible_after_the_event(search):
    payload = search.add(make_product("Old Name", price="10"))
    updated = {**payload, "name": "Fresh Name", "updatedAt": "2030-01-01T00:00:00Z"}
    updated["variants"] = [{**payload["variants"][0], "price": "99.00"}]
    send("PRODUCT_UPDATED", updated)
    assert search.names(q="old") == []
    (item,) = search.get(q="fresh")["data"]
    assert item["variants"][0]["price"] == "99.00"
    assert search.names(minPrice="50") == ["Fresh Name"]


def test_stock_movements_reach_the_in_stock_filter_and_the_payload(search):
    """A checkout changes only stock: the database backend rewrites stock in place (a fast path);
    the answers must be those of a full re-index."""
    payload = search.add(
        make_product(
            "Stock Lamp",
            category_slugs=["lighting"],
            variants=[
                {"price": "30", "stockQuantity": 2, "attributes": {"color": "red"}},
                {"price": "150", "stockQuantity": 0, "attributes": {"color": "blue"}},
            ],
        )
    )
    cheap, dear = payload["variants"]
    assert search.names(inStock="true", maxPrice="100") == ["Stock Lamp"]
    assert search.names(inStock="true", minPrice="100") == []
    row_id = search.document_row_id(payload["id"])

    send("PRODUCT_UPDATED", {**payload, "variants": [{**cheap, "stockQuantity": 0}, {**dear, "stockQuantity": 4}]})
    assert search.document_row_id(payload["id"]) == row_id  # rewritten in place, not re-inserted
    assert search.names(inStock="true", maxPrice="100") == []
    assert search.names(inStock="true", minPrice="100") == ["Stock Lamp"]
    (item,) = search.get(q="lamp")["data"]
    assert [v["stockQuantity"] for v in item["variants"]] == [0, 4]
    body = search.get(q="lamp", category="lighting", **{"attributes[color]": "red"})
    assert body["pagination"]["total"] == 1 and body["facets"]["categories"] == [{"slug": "lighting", "count": 1}]

    send("PRODUCT_UPDATED", {**payload, "variants": [{**cheap, "stockQuantity": 0}, {**dear, "stockQuantity": 0}]})
    assert search.names(inStock="true") == []
    assert search.names(q="lamp") == ["Stock Lamp"]
    # A stock movement together with a price change is indexed in full.
    repriced = [{**cheap, "price": "60.00", "stockQuantity": 1}, {**dear, "stockQuantity": 0}]
    send("PRODUCT_UPDATED", {**payload, "variants": repriced, "updatedAt": "2030-01-01T00:00:00Z"})
    assert search.names(inStock="true", minPrice="50", maxPrice="70") == ["Stock Lamp"]
    assert [b["key"] for b in search.get(q="lamp")["facets"]["price_ranges"]] == ["50.0-100.0", "100.0-200.0"]


def test_an_older_update_does_not_overwrite_a_newer_one(search):
    payload = search.add(make_product("Current", updated=None))
    newer = {**payload, "name": "Newest", "updatedAt": "2030-01-02T00:00:00Z"}
    older = {**payload, "name": "Stale", "updatedAt": "2030-01-01T00:00:00Z"}
    send("PRODUCT_UPDATED", newer)
    send("PRODUCT_UPDATED", older)
    assert search.names() == ["Newest"]


def stocks(search, product_id):
    (item,) = [p for p in search.get()["data"] if p["id"] == product_id]
    return [v["stockQuantity"] for v in item["variants"]]


def test_a_replayed_older_version_does_not_overwrite_newer_stock(search):
    """Stock changes do not move ``updatedAt``: the version orders the documents of a product
    (e.g. dead letters retried newest first)."""
    payload = search.add({**make_product("Versioned Lamp", stock=10), "version": 1})
    v2 = {**payload, "version": 2, "variants": [{**payload["variants"][0], "stockQuantity": 7}]}
    v3 = {**payload, "version": 3, "variants": [{**payload["variants"][0], "stockQuantity": 4}]}
    send("PRODUCT_UPDATED", v3)
    send("PRODUCT_UPDATED", v2)  # older, same updatedAt
    assert stocks(search, payload["id"]) == [4]
    send("PRODUCT_UPDATED", {**v2, "version": 3, "name": "Same version"})  # not newer either
    assert search.names() == ["Versioned Lamp"]
    send("PRODUCT_UPDATED", {**v2, "version": 4})
    assert stocks(search, payload["id"]) == [7]
    assert all("version" not in item for item in search.get()["data"])  # internal: never in results


def test_a_stock_only_version_is_rewritten_in_place(search):
    payload = search.add({**make_product("Fast Lamp", stock=3), "version": 5})
    row_id = search.document_row_id(payload["id"])
    send("PRODUCT_UPDATED", {**payload, "version": 6, "variants": [{**payload["variants"][0], "stockQuantity": 0}]})
    assert search.document_row_id(payload["id"]) == row_id
    assert search.names(inStock="true") == [] and stocks(search, payload["id"]) == [0]
    send("PRODUCT_UPDATED", {**payload, "version": 5})  # the older document again
    assert search.names(inStock="true") == []


def test_documents_without_a_version_are_ordered_by_updated_at_and_older_than_versioned_ones(search):
    """Rows written before versions existed may still wait in an outbox: they keep the
    ``updatedAt`` rule among themselves, and any versioned document is newer."""
    payload = search.add(make_product("Legacy", updated=datetime(2030, 1, 1, tzinfo=UTC)))
    send("PRODUCT_UPDATED", {**payload, "name": "Older legacy", "updatedAt": "2029-01-01T00:00:00Z"})
    assert search.names() == ["Legacy"]
    send("PRODUCT_UPDATED", {**payload, "name": "Versioned", "version": 1})
    assert search.names() == ["Versioned"]
    send("PRODUCT_UPDATED", {**payload, "name": "Late legacy", "updatedAt": "2031-01-01T00:00:00Z"})
    assert search.names() == ["Versioned"]


def test_a_delete_wins_over_older_and_newer_versions(search):
    payload = search.add({**make_product("Doomed"), "version": 3})
    send("PRODUCT_DELETED", {"id": payload["id"], "version": 4})
    send("PRODUCT_UPDATED", {**payload, "version": 2})
    send("PRODUCT_UPDATED", {**payload, "version": 9})
    assert search.get()["pagination"]["total"] == 0


def test_deleted_products_vanish_and_stay_gone(search):
    keep, gone = search.add(make_product("Keep Lamp"), make_product("Gone Lamp"))
    send("PRODUCT_DELETED", {"id": gone["id"]})
    assert search.names(q="lamp") == ["Keep Lamp"]
    # A late update of the deleted product does not bring it back.
    send("PRODUCT_UPDATED", {**gone, "updatedAt": "2030-01-01T00:00:00Z"})
    assert search.names(q="lamp") == ["Keep Lamp"]
    send("PRODUCT_DELETED", {"id": str(uuid.uuid4())})  # unknown id: nothing to do


def test_redelivered_event_is_applied_once(search):
    payload = make_product("Once")
    event_id = uuid.uuid4()
    assert send("PRODUCT_CREATED", payload, event_id=event_id) is True
    send("PRODUCT_UPDATED", {**payload, "name": "Twice", "updatedAt": "2030-01-01T00:00:00Z"})
    assert send("PRODUCT_CREATED", payload, event_id=event_id) is False
    assert search.names() == ["Twice"]


def test_other_events_on_the_topic_are_ignored(search):
    send("CATEGORY_CREATED", {"id": str(uuid.uuid4()), "name": "Shoes"})
    assert search.get()["pagination"]["total"] == 0
