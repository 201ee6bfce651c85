"""Reads of the catalogue: the public interface other apps use, and the API's querysets.

Public (other apps call only these, never the models):
- ``variant_snapshots(variant_ids)``: what a cart line or an order line needs about variants;
- ``product_documents(product_ids=None, batch_size=500)``: product documents for a reindex.
"""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from apps.catalog.events import product_documents_by_id
from apps.catalog.models import Category, Product, ProductCategory, ProductImage, StockMovement, Variant
from ecommerce.db import alias_for
from ecommerce.sql import CompiledQuery, InArray


@dataclass(frozen=True)
class VariantSnapshot:
    variant_id: str
    product_id: str
    product_name: str
    sku: str
    product_is_active: bool
    price: Decimal
    stock_quantity: int
    attributes: dict
    image_url: str | None


def _uuids(values):
    """The valid UUIDs among ``values`` (anything else cannot name a row: it is skipped)."""
    found = []
    for value in values:
        try:
            found.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except (ValueError, TypeError, AttributeError):
            continue
    return found


# Compiled once per connection (ecommerce/sql.py): every checkout and cart read runs both.
_SNAPSHOT_ROWS = CompiledQuery(
    lambda: Variant.objects.filter(InArray("id")).values_list(
        "id",
        "product_id",
        "price",
        "stock_quantity",
        "attributes",
        "product__name",
        "product__sku",
        "product__is_active",
    )
)
# Primary first, then by order: the first row seen per product is its picture.
_PICTURE_ROWS = CompiledQuery(
    lambda: (
        ProductImage.objects.filter(InArray("product_id"))
        .order_by("product_id", "-is_primary", "order", "created_at", "id")
        .values_list("product_id", "image_url")
    )
)


def variant_snapshots(variant_ids: Iterable) -> dict[str, VariantSnapshot]:
    """``{variant_id: VariantSnapshot}`` for the variants that exist (2 queries at most)."""
    ids = _uuids(variant_ids)
    if not ids:
        return {}
    using = alias_for("catalog")
    variants = _SNAPSHOT_ROWS.rows(using, ids)
    images = {}
    for product_id, image_url in _PICTURE_ROWS.rows(using, list({row[1] for row in variants})):
        images.setdefault(product_id, image_url)
    return {
        str(vid): VariantSnapshot(
            variant_id=str(vid),
            product_id=str(pid),
            product_name=name,
            sku=sku,
            product_is_active=active,
            price=price,
            stock_quantity=stock,
            attributes=dict(attributes or {}),
            image_url=images.get(pid),
        )
        for vid, pid, price, stock, attributes, name, sku, active in variants
    }


def product_documents(product_ids: Iterable | None = None, batch_size: int = 500) -> Iterator[list[dict]]:
    """Lists of product documents (the event payload), ``batch_size`` at a time, in id order.

    Keyset pagination on the id, so a 50k catalogue is read in constant memory with 4 queries
    per batch.
    """
    base = Product.objects.all()
    if product_ids is not None:
        ids = _uuids(product_ids)
        if not ids:
            return
        base = base.filter(id__in=ids)
    last = None
    while True:
        page = base.order_by("id")
        if last is not None:
            page = page.filter(id__gt=last)
        batch_ids = list(page.values_list("id", flat=True)[:batch_size])
        if not batch_ids:
            return
        documents = product_documents_by_id(batch_ids)
        yield [documents[pid] for pid in batch_ids if pid in documents]
        if len(batch_ids) < batch_size:
            return
        last = batch_ids[-1]


# --- Querysets shaped for the API -------------------------------------------------------------


def product_queryset(detail=False):
    """Products with variants, category links and ordered images: 4 queries whatever the count."""
    link_qs = ProductCategory.objects.select_related("category").order_by("category__name", "category_id")
    return Product.objects.prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("created_at", "id")),
        Prefetch("product_categories", queryset=link_qs),
        Prefetch("images", queryset=ProductImage.objects.order_by("order", "created_at", "id")),
    )


def product_exists(product_id):
    return Product.objects.filter(id=product_id).exists()


def get_product(product_id):
    return product_queryset(detail=True).filter(id=product_id).first()


def get_product_by_sku(sku):
    return product_queryset(detail=True).filter(sku=sku).first()


def categories_with_counts():
    from django.db.models import Count

    return Category.objects.annotate(
        product_count=Count("product_links", distinct=True),
        sub_category_count=Count("children", distinct=True),
    ).order_by("name", "id")


def descendant_ids(slug):
    """The ids of the category ``slug`` and of everything below it, or None if there is no such
    category (one query: the whole tree is read, it is small)."""
    children, root = {}, None
    for cid, parent_id, cslug in Category.objects.values_list("id", "parent_id", "slug"):
        children.setdefault(parent_id, []).append(cid)
        if cslug == slug:
            root = cid
    if root is None:
        return None
    found, stack = [], [root]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def stock_history(variant_id, limit):
    return list(StockMovement.objects.filter(variant_id=variant_id).order_by("-timestamp", "-id")[:limit])
