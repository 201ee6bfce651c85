"""The checkout's reads compiled once (ecommerce/sql.py) give what the ORM's querysets give.

Runs on SQLite (embedded tier) and on PostgreSQL (service and shared-database tiers): the
references below are the querysets the compiled statements replaced, run through the ORM.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.catalog import events, services
from apps.catalog.models import Product, ProductCategory, ProductImage, Variant
from apps.catalog.selectors import VariantSnapshot, variant_snapshots
from apps.catalog.tests import factories
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def orm_rows(ids):
    """The rows of the 4 reads of the documents as the ORM's querysets give them (the querysets
    the compiled statements replaced)."""
    products = Product.objects.filter(id__in=ids).values_list(*events.PRODUCT_COLUMNS, "version")
    found = [row[0] for row in products]
    links = ProductCategory.objects.filter(product_id__in=found).order_by("category__name", "category_id")
    variants = Variant.objects.filter(product_id__in=found).order_by("created_at", "id")
    images = ProductImage.objects.filter(product_id__in=found).order_by("order", "created_at", "id")
    return (
        list(products),
        list(links.values_list("product_id", "category__name", *events.PARENT_PATHS)),
        list(variants.values_list("id", "product_id", "attributes", "price", "stock_quantity")),
        list(images.values_list("id", "product_id", "image_url", "alt_text", "is_primary", "order")),
    )


@pytest.fixture
def products(tree):
    """Products in a 3-level tree, in two categories, with JSON attributes, prices, images."""
    first = factories.product(
        "DOC-1",
        "Oxford shirt",
        categories=[tree["shirts"], tree["phones"]],
        variants=[
            {"attributes": {"color": "white", "size": "M"}, "price": Decimal("39.90"), "initial_stock_quantity": 5},
            {"attributes": {"color": "blue", "size": "M"}, "price": Decimal("44"), "initial_stock_quantity": 0},
            {"attributes": {}, "price": Decimal("0.10"), "initial_stock_quantity": 7},
        ],
        images=[
            {"image_url": "/images/images/b.jpg", "order": 2, "alt_text": "back"},
            {"image_url": "/images/images/a.jpg", "order": 1, "is_primary": True},
        ],
    )
    second = factories.product("DOC-2", "Plain", description=None, is_active=False, categories=[tree["dresses"]])
    bare = factories.product("DOC-3", "Bare", variants=[])
    return [first, second, bare]


def test_documents_match_the_orm(products):
    ids = [p.id for p in products] + [uuid.uuid4()]  # one that does not exist
    with transaction.atomic(using=alias_for("catalog")):
        events.lock_products([p.id for p in products])  # versions other than 0
    compiled = events.product_documents_by_id(ids)
    using, found = alias_for("catalog"), [p.id for p in products]
    rows = orm_rows(ids)
    assert events._PRODUCT_ROWS.rows(using, ids) == rows[0]
    assert events._CATEGORY_ROWS.rows(using, found) == rows[1]
    assert events._VARIANT_ROWS.rows(using, found) == rows[2]
    assert events._IMAGE_ROWS.rows(using, found) == rows[3]
    assert compiled == events.documents_from_rows(*rows)
    assert set(compiled) == {p.id for p in products}
    assert compiled[products[0].id]["category_path_slugs"] == ["phones", "electronics", "shirts", "men", "clothing"]
    # Keys given as strings find the same products.
    assert events.product_documents_by_id([str(pid) for pid in ids]) == compiled


def test_variant_snapshots_match_the_orm(products):
    ids = list(Variant.objects.values_list("id", flat=True))
    snapshots = variant_snapshots([str(vid) for vid in ids] + [str(uuid.uuid4()), "not-a-uuid"])
    assert set(snapshots) == {str(vid) for vid in ids}
    first = snapshots[str(factories.variant_of(products[0]).id)]
    assert first == VariantSnapshot(
        variant_id=first.variant_id,
        product_id=str(products[0].id),
        product_name="Oxford shirt",
        sku="DOC-1",
        product_is_active=True,
        price=Decimal("39.90"),
        stock_quantity=5,
        attributes={"color": "white", "size": "M"},
        image_url="/images/images/a.jpg",  # the primary one
    )
    assert isinstance(first.price, Decimal)
    second = next(s for s in snapshots.values() if s.sku == "DOC-2")
    assert (second.product_is_active, second.image_url) == (False, None)


def test_one_statement_text_whatever_the_number_of_keys(products):
    connection = connections[alias_for("catalog")]
    ids = [p.id for p in products]
    with CaptureQueriesContext(connection) as captured:
        events.product_documents_by_id(ids[:1])
        events.product_documents_by_id(ids)
    assert len(captured.captured_queries) == 8
    sql, params, _ = events._PRODUCT_ROWS._compiled[connection]
    assert len(params) == 1
    assert ("= ANY(%s)" if connection.vendor == "postgresql" else "IN (SELECT value FROM json_each(%s))") in sql


def test_an_empty_list_runs_nothing(products, catalog_queries):
    with catalog_queries(0):
        assert events.product_documents_by_id([]) == {}
        assert variant_snapshots([]) == {}
        assert events._PRODUCT_ROWS.rows(alias_for("catalog"), []) == []


def test_stock_update_keeps_each_row_guarded(products):
    white, blue, _ = Variant.objects.filter(product=products[0]).order_by("created_at", "id")
    with transaction.atomic(using=alias_for("catalog")):
        now = white.updated_at
        # Blue holds 0: its row is not updated, white's is.
        assert services._apply_stock_changes({white.id: -2, blue.id: -1}, now) == 1
    white.refresh_from_db()
    blue.refresh_from_db()
    assert (white.stock_quantity, blue.stock_quantity) == (3, 0)
    with transaction.atomic(using=alias_for("catalog")):
        assert services._apply_stock_changes({white.id: 4, blue.id: 2}, now) == 2
    assert list(
        Variant.objects.filter(id__in=[white.id, blue.id])
        .order_by("created_at", "id")
        .values_list("stock_quantity", flat=True)
    ) == [7, 2]


@pytest.mark.postgres
def test_documents_match_the_orm_on_postgresql(products):
    """The same comparison in the PostgreSQL-only tiers (the shared-database tier binds parameters
    on the client, the service tier on the server: the array parameter must work with both)."""
    test_documents_match_the_orm(products)
    test_stock_update_keeps_each_row_guarded(products)
