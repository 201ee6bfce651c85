from decimal import Decimal

import pytest

from apps.catalog.tests import factories


@pytest.fixture
def admin(client_as):
    client, _ = client_as("ADMIN")
    return client


@pytest.fixture
def tree(db):
    """clothing > men > shirts / trousers; clothing > women > dresses; electronics > phones."""
    clothing = factories.category("Clothing", "clothing")
    men = factories.category("Men", "men", parent=clothing)
    women = factories.category("Women", "women", parent=clothing)
    shirts = factories.category("Shirts", "shirts", parent=men)
    trousers = factories.category("Trousers", "trousers", parent=men)
    dresses = factories.category("Dresses", "dresses", parent=women)
    electronics = factories.category("Electronics", "electronics")
    phones = factories.category("Phones", "phones", parent=electronics)
    return {c.slug: c for c in (clothing, men, women, shirts, trousers, dresses, electronics, phones)}


@pytest.fixture
def shirt(tree):
    return factories.product(
        "SHIRT-1",
        "Oxford shirt",
        categories=[tree["shirts"]],
        variants=[
            {"attributes": {"color": "white", "size": "M"}, "price": Decimal("39.90"), "initial_stock_quantity": 5},
            {"attributes": {"color": "blue", "size": "L"}, "price": Decimal("44.00"), "initial_stock_quantity": 0},
        ],
        images=[
            {"image_url": "/images/images/b.jpg", "order": 2},
            {"image_url": "/images/images/a.jpg", "order": 1, "is_primary": True},
        ],
    )


@pytest.fixture
def catalog_queries(django_assert_num_queries):
    """``with catalog_queries(n):`` counts the queries on the catalogue's connection (its own
    database in the split shape, ``default`` otherwise)."""
    from django.db import connections

    from ecommerce.db import alias_for

    def counting(n):
        return django_assert_num_queries(n, connection=connections[alias_for("catalog")])

    return counting


@pytest.fixture
def catalog_commit(django_capture_on_commit_callbacks):
    """``with catalog_commit():`` runs, at the end of the block, what the catalogue's database
    runs after a commit (the republish of a renamed category, the inline event delivery)."""
    from ecommerce.db import alias_for

    def capturing(execute=True):
        return django_capture_on_commit_callbacks(using=alias_for("catalog"), execute=execute)

    return capturing
