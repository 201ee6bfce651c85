"""No statement of the write path reads a whole table (PostgreSQL plans, ``tests/plans.py``).

A checkout, the relay's cycle and the consumers' work run once per order: each must find its rows
through an index, or its cost grows with the catalogue and the order history (the product lock
once read all 50k products on every checkout, bench/README.md finding 12)."""

from contextlib import ExitStack, contextmanager

import pytest

from apps.events import relay
from apps.events.registry import subscriptions
from apps.events.runner import deliver, processed_ids
from apps.orders.tests.conftest import guest_body, make_product
from ecommerce.db import context_aliases
from tests.plans import CapturedStatements, full_scans

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs the on-commit callbacks of every context's database (the inline
    event delivery) at the end of the block, as a real commit would."""

    @contextmanager
    def block():
        with ExitStack() as stack:
            for alias in context_aliases():
                stack.enter_context(django_capture_on_commit_callbacks(using=alias, execute=True))
            yield

    return block


@pytest.fixture
def catalogue(settings, committed):
    """Two products to buy among others, indexed and copied by the inline consumers."""
    settings.EVENTS_TRANSPORT = "inline"
    settings.SEARCH_BACKEND = "database"
    with committed():
        mug, pot = make_product(variants=2), make_product()
        for _ in range(5):
            make_product()  # rows the statements must not read
    body = guest_body(mug, quantity=1)
    body["items"].append({"productId": pot.id, "variantId": pot.variant_id, "quantity": 2})
    return body


def whole_table_reads(statements):
    return {sql[:120]: found for connection, sql in statements if (found := full_scans(connection, sql))}


def test_a_checkout_and_its_inline_delivery_read_no_whole_table(api_client, catalogue, committed):
    with CapturedStatements() as captured, committed():
        response = api_client.post("/orders", catalogue, format="json", HTTP_IDEMPOTENCY_KEY="plan-check")
    assert response.status_code == 201, response.content
    statements = captured.all
    everything = " ".join(sql for _, sql in statements)
    for table in ("catalog_stockmovement", "order_items", "search_searchdocument", "denormalized_products"):
        assert f'"{table}"' in everything  # the checkout and both consumers were captured
    assert whole_table_reads(statements) == {}


class KeepingPublisher:
    """Stands in for the broker: keeps what a Kafka consumer would receive."""

    def __init__(self):
        self.messages = []

    def send(self, rows):
        self.messages += [(row.topic, row.event_id, row.envelope_bytes()) for row in rows]
        return {row.pk: None for row in rows}


def test_the_relay_and_the_kafka_consumers_read_no_whole_table(api_client, catalogue, settings):
    settings.EVENTS_TRANSPORT = "kafka"  # the checkout writes outbox rows; the relay sends them
    assert api_client.post("/orders", catalogue, format="json").status_code == 201
    publisher = KeepingPublisher()
    with CapturedStatements() as relaying:
        for alias in context_aliases():
            relay.relay_batch(alias, publisher)
    assert {topic for topic, _, _ in publisher.messages} >= {"product_events", "order_events"}
    with CapturedStatements() as consuming:
        for group in sorted({s.group for s in subscriptions()}):
            topics = {s.topic for s in subscriptions(group=group)}
            batch = [(topic, event_id, raw) for topic, event_id, raw in publisher.messages if topic in topics]
            processed = processed_ids(group, [event_id for _, event_id, _ in batch])
            for topic, _, raw in batch:
                deliver(topic, raw, groups=[group], processed=processed)
    assert "search_searchdocument" in " ".join(sql for _, sql in consuming.all)
    assert whole_table_reads(relaying.all) == {}
    assert whole_table_reads(consuming.all) == {}


def test_staff_writes_and_their_inline_delivery_read_no_whole_table(api_client, catalogue, committed, client_as):
    staff, _ = client_as("ADMIN")
    with committed():
        order = api_client.post("/orders", catalogue, format="json").json()
    line = catalogue["items"][0]
    with CapturedStatements() as captured, committed():
        cancelled = staff.put(f"/orders/{order['id']}/status", {"status": "CANCELLED"}, format="json")
        adjusted = staff.post(
            f"/products/stock/adjust/{line['variantId']}", {"changeQuantity": 3, "type": "ADJUSTMENT"}, format="json"
        )
        renamed = staff.put(f"/products/{line['productId']}", {"name": "Renamed mug"}, format="json")
    assert (cancelled.status_code, adjusted.status_code, renamed.status_code) == (200, 201, 200)
    everything = " ".join(sql for _, sql in captured.all)
    for table in ("orders", "catalog_stockmovement", "search_searchdocument", "search_searchterm"):
        assert f'"{table}"' in everything
    assert whole_table_reads(captured.all) == {}


def test_a_category_rename_and_its_chunked_republish_read_no_whole_table(
    api_client, catalogue, committed, client_as, settings
):
    from apps.catalog import services  # the catalogue's own interface, as its tests use it

    settings.CATALOG_REPUBLISH_CHUNK = 1  # a chunk with a cursor, then the last one
    staff, _ = client_as("ADMIN")
    parent = services.create_category({"name": "Kitchen", "slug": "kitchen"})
    leaf = services.create_category({"name": "Mugs", "slug": "mugs", "parent_id": parent.id})
    for line in catalogue["items"]:
        services.attach_categories(line["productId"], [leaf.id])
    with CapturedStatements() as captured, committed():
        renamed = staff.put(f"/products/categories/{parent.id}", {"slug": "cookware"}, format="json")
    assert renamed.status_code == 200
    everything = " ".join(sql for _, sql in captured.all)
    for table in ("catalog_categoryrepublish", "catalog_productcategory", "search_searchdocument"):
        assert f'"{table}"' in everything
    # Two statements walk an index whole here, and only on these tiny tables. The claim takes the
    # oldest pending row (done rows are deleted: the table holds only pending work). The chunk of
    # product ids prefers walking the (product, category) index in order to sorting a few rows;
    # on the 50k catalogue PostgreSQL probes the category index (1.4 ms for a leaf's 1,785 links).
    explained = {
        'SELECT "catalog_categoryrepublish".': ["Index Scan on catalog_categoryrepublish"],
        'SELECT DISTINCT "catalog_productcategory".': ["Index Scan on catalog_productcategory"],
    }
    unexplained = {
        sql: found
        for sql, found in whole_table_reads(captured.all).items()
        if not any(sql.startswith(start) and found == scans for start, scans in explained.items())
    }
    assert unexplained == {}
