"""Orders test helpers. Catalogue data is made through the catalogue's public modules only."""

import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest

_n = {"i": 0}


def make_product(*, price="19.90", stock=10, variants=1, is_active=True, image_url=None, name=None):
    """A product with ``variants`` variants of ``stock`` units each → namespace(id, variant_ids, ...)."""
    from apps.catalog.selectors import product_documents
    from apps.catalog.services import create_product

    _n["i"] += 1
    n = f"{_n['i']}-{uuid.uuid4().hex[:6]}"
    product = create_product(
        {
            "sku": f"ORD-{n}",
            "name": name or f"Order test product {n}",
            "description": "For orders tests",
            "is_active": is_active,
            "category_ids": [],
            "variants": [
                {"attributes": {"size": str(k)}, "price": Decimal(price), "initial_stock_quantity": stock}
                for k in range(variants)
            ],
            "images": [{"image_url": image_url, "is_primary": True, "order": 0}] if image_url else [],
        }
    )
    doc = next(product_documents([product.id]))[0]
    return SimpleNamespace(
        id=str(product.id),
        sku=doc["sku"],
        name=doc["name"],
        variant_ids=[v["id"] for v in doc["variants"]],
        variant_id=doc["variants"][0]["id"],
    )


def stock_of(variant_id):
    from apps.catalog.selectors import variant_snapshots

    return variant_snapshots([variant_id])[str(variant_id)].stock_quantity


def movements_of(variant_id):
    from apps.catalog.selectors import stock_history

    return stock_history(variant_id, 10_000)


def set_active(product_id, active):
    from apps.catalog.services import update_product

    update_product(product_id, {"is_active": active})


def guest_body(product, quantity=1, **overrides):
    body = {
        "items": [{"productId": product.id, "variantId": product.variant_id, "quantity": quantity, "price": "0.01"}],
        "phone": "+33 6 12 34 56 78",
        "guestEmail": "jane.doe@example.com",
        "guestName": "Jane Doe",
        "shippingAddress": {
            "country": "France",
            "firstName": "Jane",
            "lastName": "Doe",
            "address": "1 rue de la Paix",
            "apartment": "3B",
            "postalCode": "75002",
            "city": "Paris",
        },
        "paymentMethod": "CASH_ON_DELIVERY",
    }
    body.update(overrides)
    return body


@pytest.fixture
def product(db):
    return make_product()


@pytest.fixture
def place(api_client):
    """``place(body, client=None, key=None)`` → response of POST /orders."""

    def post(body, client=None, key=None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return (client or api_client).post("/orders", body, format="json", **headers)

    return post
