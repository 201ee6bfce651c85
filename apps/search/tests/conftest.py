"""Fixtures of the search tests: payload builders, event delivery, one fixture per backend.

Behaviour tests take ``search``: they run once with the database backend (SQLite in the
embedded tier, PostgreSQL in the service tiers) and once with Elasticsearch (marked
``elasticsearch``; a fresh alias per test, deleted afterwards).
"""

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.events.registry import Event, subscriptions
from apps.events.runner import handle

_clock = itertools.count()
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def make_product(name="Thing", **fields):
    """A PRODUCT_CREATED payload as the catalogue sends it (prices as strings)."""
    created = fields.pop("created", None) or BASE_TIME + timedelta(minutes=next(_clock))
    variants = fields.pop("variants", None)
    if variants is None:
        variants = [{"price": fields.pop("price", "19.90"), "stockQuantity": fields.pop("stock", 5)}]
    attributes = fields.pop("attributes", {})
    payload = {
        "id": str(fields.pop("id", uuid.uuid4())),
        "sku": fields.pop("sku", f"SKU-{uuid.uuid4().hex[:6]}"),
        "name": name,
        "description": fields.pop("description", ""),
        "isActive": fields.pop("isActive", True),
        "createdAt": iso(created),
        "updatedAt": iso(fields.pop("updated", None) or created),
        "category_names": fields.pop("category_names", []),
        "category_slugs": fields.pop("category_slugs", []),
        "category_path_slugs": fields.pop("category_path_slugs", []),
        "variants": [
            {
                "id": str(uuid.uuid4()),
                "attributes": v.get("attributes", attributes),
                "price": v["price"],
                "stockQuantity": v.get("stockQuantity", 5),
            }
            for v in variants
        ],
        "variant_attributes_flat": sorted(
            {f"{k}:{val}" for v in variants for k, val in v.get("attributes", attributes).items()}
        ),
        "images": fields.pop("images", []),
    }
    assert not fields, f"unknown fields {fields}"
    return payload


def send(event_type, payload, event_id=None):
    """Deliver one product event to the search consumer through the events runner."""
    (subscription,) = subscriptions(topic="product_events", group="search")
    event = Event(
        id=str(event_id or uuid.uuid4()),
        type=event_type,
        payload=payload,
        timestamp=iso(datetime.now(UTC)),
        source_service="catalog",
        topic="product_events",
    )
    return handle(subscription, event)


class SearchClient:
    def __init__(self, api_client, backend):
        self.api = api_client
        self.backend = backend

    def add(self, *names_or_payloads, **fields):
        payloads = []
        for item in names_or_payloads:
            payload = item if isinstance(item, dict) else make_product(item, **fields)
            send("PRODUCT_CREATED", payload)
            payloads.append(payload)
        return payloads[0] if len(payloads) == 1 else payloads

    def get(self, expected=200, **params):
        response = self.api.get("/search/products", params)
        assert response.status_code == expected, response.content
        return response.json()

    def document_row_id(self, product_id):
        """The database backend's row of a product (``None`` with Elasticsearch)."""
        if self.backend != "database":
            return None
        from apps.search.models import SearchDocument
        from ecommerce.db import alias_for

        return SearchDocument.objects.using(alias_for("search")).values_list("id", flat=True).get(product_id=product_id)

    def names(self, **params):
        return [p["name"] for p in self.get(**params)["data"]]


def _backend(name, settings, api_client):
    settings.SEARCH_BACKEND = name
    if name != "elasticsearch":
        yield SearchClient(api_client, name)
        return
    from apps.search.backends.elastic import client

    alias = f"{settings.ELASTICSEARCH_INDEX}_t{uuid.uuid4().hex[:10]}"
    settings.ELASTICSEARCH_INDEX = alias
    settings.ELASTICSEARCH_REFRESH = "wait_for"
    yield SearchClient(api_client, name)
    es = client()
    for row in es.options(ignore_status=404).cat.indices(index=f"{alias}_*", format="json") or []:
        es.options(ignore_status=404).indices.delete(index=row["index"])


@pytest.fixture(params=["database", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def search(request, settings, api_client, db):
    yield from _backend(request.param, settings, api_client)


@pytest.fixture
def elastic(settings, api_client, db):
    """Elasticsearch only (mark the test ``elasticsearch``)."""
    yield from _backend("elasticsearch", settings, api_client)
