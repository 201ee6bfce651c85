"""Test data built through the catalogue's services (so events and ledger rows are real)."""

import itertools
from decimal import Decimal

from apps.catalog import services

_counter = itertools.count(1)


def category(name=None, slug=None, parent=None, image_url=None):
    n = next(_counter)
    return services.create_category(
        {
            "name": name or f"Category {n}",
            "slug": slug or f"category-{n}",
            "parent_id": getattr(parent, "id", parent),
            "image_url": image_url,
        }
    )


def product(sku=None, name=None, *, categories=(), variants=None, images=(), is_active=True, description="A thing"):
    n = next(_counter)
    if variants is None:
        variants = [
            {"attributes": {"color": "red", "size": "M"}, "price": Decimal("19.90"), "initial_stock_quantity": 10}
        ]
    return services.create_product(
        {
            "sku": sku or f"SKU-{n}",
            "name": name or f"Product {n}",
            "description": description,
            "is_active": is_active,
            "category_ids": [c.id for c in categories],
            "variants": list(variants),
            "images": list(images),
        }
    )


def variant_of(product_obj):
    return product_obj.variants.order_by("created_at", "id").first()
