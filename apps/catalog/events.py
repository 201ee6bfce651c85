"""What the catalogue publishes on ``product_events`` (key = product id).

``PRODUCT_CREATED`` / ``PRODUCT_UPDATED`` carry the whole product document (the contract's
payload, also what ``selectors.product_documents`` yields for a reindex); ``PRODUCT_DELETED``
carries ``{id}``. ``CATEGORY_CREATED`` / ``CATEGORY_UPDATED`` / ``CATEGORY_DELETED`` are emitted
as the original did; consumers of product events ignore them.

Every function here must run inside the ``transaction.atomic(using=alias_for("catalog"))`` of the
change it describes (``publish`` refuses otherwise).
"""

from django.db.models import Prefetch

from apps.catalog import cache
from apps.catalog.models import Category, Product, ProductCategory, ProductImage, Variant
from apps.events.outbox import publish
from ecommerce.db import alias_for

TOPIC = "product_events"

PRODUCT_CREATED = "PRODUCT_CREATED"
PRODUCT_UPDATED = "PRODUCT_UPDATED"
PRODUCT_DELETED = "PRODUCT_DELETED"
CATEGORY_CREATED = "CATEGORY_CREATED"
CATEGORY_UPDATED = "CATEGORY_UPDATED"
CATEGORY_DELETED = "CATEGORY_DELETED"


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def money(value):
    return f"{value:.2f}" if value is not None else None


def document_queryset():
    """Products with everything a document needs: 4 queries for any number of products."""
    return Product.objects.prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("created_at", "id")),
        Prefetch(
            "product_categories",
            queryset=ProductCategory.objects.select_related("category__parent__parent").order_by(
                "category__name", "category_id"
            ),
        ),
        Prefetch("images", queryset=ProductImage.objects.order_by("order", "created_at", "id")),
    )


def product_document(product):
    """The contract's product event payload, from a product fetched with ``document_queryset``."""
    categories = [link.category for link in product.product_categories.all()]
    path_slugs = []
    for category in categories:
        node = category
        while node is not None:
            if node.slug not in path_slugs:
                path_slugs.append(node.slug)
            node = node.parent
    variants = list(product.variants.all())
    flat = []
    for variant in variants:
        for key, value in (variant.attributes or {}).items():
            entry = f"{key}:{value}"
            if entry not in flat:
                flat.append(entry)
    return {
        "id": str(product.id),
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "isActive": product.is_active,
        "createdAt": iso(product.created_at),
        "updatedAt": iso(product.updated_at),
        "category_names": [c.name for c in categories],
        "category_slugs": [c.slug for c in categories],
        # Not in the original: the slugs of the categories and all their ancestors, so that a
        # search on a parent category finds the products of its leaves.
        "category_path_slugs": path_slugs,
        "variants": [
            {
                "id": str(v.id),
                "attributes": v.attributes or {},
                "price": money(v.price),
                "stockQuantity": v.stock_quantity,
            }
            for v in variants
        ],
        "variant_attributes_flat": flat,
        "images": [
            {
                "id": str(i.id),
                "imageUrl": i.image_url,
                "altText": i.alt_text,
                "isPrimary": i.is_primary,
                "order": i.order,
            }
            for i in product.images.all()
        ],
    }


def _using():
    return alias_for("catalog")


def product_changed(product_ids, event_type=PRODUCT_UPDATED, *, stock_only=False):
    """Publish the current document of each product (fetched in 4 queries), in id order.

    Also drops the products' cached details and, unless only stock moved, the cached category
    list (its product counts)."""
    ids = sorted({str(pid) for pid in product_ids})
    if not ids:
        return
    cache.invalidate(ids, categories=not stock_only, using=_using())
    for product in document_queryset().filter(id__in=ids).order_by("id"):
        publish(TOPIC, event_type, product.id, product_document(product), using=_using(), aggregate_type="product")


def product_deleted(product_id):
    cache.invalidate([str(product_id)], categories=True, using=_using())
    publish(TOPIC, PRODUCT_DELETED, product_id, {"id": str(product_id)}, using=_using(), aggregate_type="product")


def category_payload(category):
    return {
        "id": str(category.id),
        "name": category.name,
        "slug": category.slug,
        "parentId": str(category.parent_id) if category.parent_id else None,
        "imageUrl": category.image_url,
        "createdAt": iso(category.created_at),
        "updatedAt": iso(category.updated_at),
    }


def category_changed(category: Category, event_type):
    cache.invalidate(categories=True, using=_using())
    payload = category_payload(category)
    if event_type == CATEGORY_CREATED:  # as the original: a new category is a leaf with nothing in it
        payload.update(isLeaf=True, productCount=0, subCategoryCount=0)
    publish(TOPIC, event_type, category.id, payload, using=_using(), aggregate_type="category")


def category_deleted(category_id):
    cache.invalidate(categories=True, using=_using())
    publish(TOPIC, CATEGORY_DELETED, category_id, {"id": str(category_id)}, using=_using(), aggregate_type="category")
