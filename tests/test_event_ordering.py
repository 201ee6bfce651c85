"""Two checkouts of two variants of one product at once (PostgreSQL, real transactions): applied
in either order, the search index and the orders' copy end with the catalogue's state.

Stock changes do not move a product's ``updatedAt``; the document ``version`` (catalogue) orders
them, and each consumer keeps the highest version it applied."""

import uuid

import pytest

from apps.catalog.models import Variant
from apps.catalog.tests import factories
from apps.catalog.tests.test_versions import STOCK, product_events, reserve_two_variants_at_once
from apps.events.registry import Event, subscriptions
from apps.events.runner import handle
from apps.orders.models import DenormalizedProduct
from apps.search.backends import get_backend
from apps.search.params import SearchQuery
from apps.search.tests.conftest import search  # noqa: F401 - the fixture: database and Elasticsearch backends

pytestmark = [pytest.mark.postgres]


def apply(group, event_type, payload):
    (subscription,) = subscriptions(topic="product_events", group=group)
    event = Event(str(uuid.uuid4()), event_type, payload, "", "catalog", "product_events")
    assert handle(subscription, event) is True


@pytest.mark.parametrize("order", ["commit order", "reversed"])
def test_concurrent_checkouts_applied_in_either_order_leave_the_catalogue_state(
    transactional_db,
    settings,
    search,  # noqa: F811 - the fixture imported above
    order,
):
    settings.EVENTS_TRANSPORT = "kafka"  # outbox rows only; the events are applied below
    product = factories.product(variants=[{**STOCK, "initial_stock_quantity": 10}] * 2)
    a, b = Variant.objects.filter(product=product).order_by("created_at", "id")
    reserve_two_variants_at_once(a.id, b.id)

    created, *stock_events = product_events(product.id)
    if order == "reversed":
        stock_events.reverse()
    for event_type, payload in [created, *stock_events]:
        apply("search", event_type, payload)
        apply("orders", event_type, payload)

    catalogue = {str(v.id): v.stock_quantity for v in Variant.objects.filter(product=product)}
    assert catalogue == {str(a.id): 9, str(b.id): 8}
    (indexed,) = get_backend().search(SearchQuery())["data"]
    assert {v["id"]: v["stockQuantity"] for v in indexed["variants"]} == catalogue
    if search.backend == "database":  # Elasticsearch keeps it as the document's _version
        from apps.search.models import SearchDocument
        from ecommerce.db import alias_for

        latest = max(payload["version"] for _, payload in stock_events)
        assert SearchDocument.objects.using(alias_for("search")).get(product_id=product.id).version == latest
    # The copy holds no stock: stock-only documents leave it (and its version) as created.
    copy = DenormalizedProduct.objects.get(id=product.id)
    assert (copy.name, copy.source_version) == (product.name, created[1]["version"])
