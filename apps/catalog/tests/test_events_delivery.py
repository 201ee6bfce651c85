"""The catalogue's events are accepted by every consumer (search, orders): none is dead-lettered."""

import uuid

import pytest

from apps.catalog import services
from apps.catalog.tests import factories
from apps.events.models import DeadLetter, OutboxEvent
from ecommerce.db import alias_for, context_aliases

pytestmark = pytest.mark.django_db


def test_every_product_event_is_delivered(catalog_commit, tree):
    committed = catalog_commit
    with committed():
        product = factories.product(
            categories=[tree["shirts"]], images=[{"image_url": "/images/images/demo-1.jpg", "is_primary": True}]
        )
    variant = factories.variant_of(product)
    with committed():
        services.reserve_stock([(variant.id, 2)], order_id=uuid.uuid4())
    with committed():
        services.update_product(product.id, {"name": "Renamed"})
    with committed():
        services.update_category(tree["shirts"].id, {"name": "Formal shirts"})
    with committed():
        services.delete_product(product.id)
    outbox = OutboxEvent.objects.using(alias_for("catalog"))
    assert not outbox.filter(published_at__isnull=True).exists()
    assert set(outbox.values_list("event_type", flat=True)) >= {
        "PRODUCT_CREATED", "PRODUCT_UPDATED", "PRODUCT_DELETED", "CATEGORY_CREATED", "CATEGORY_UPDATED",
    }  # fmt: skip
    for alias in context_aliases():
        assert list(DeadLetter.objects.using(alias).values_list("group", "error")) == []
