"""What the catalogue publishes on ``product_events`` (key = product id).

``PRODUCT_CREATED`` / ``PRODUCT_UPDATED`` carry the whole product document (the contract's
payload, also what ``selectors.product_documents`` yields for a reindex); ``PRODUCT_DELETED``
carries ``{id}``. ``CATEGORY_CREATED`` / ``CATEGORY_UPDATED`` / ``CATEGORY_DELETED`` are emitted
as the original did; consumers of product events ignore them.

Every function here must run inside the ``transaction.atomic(using=alias_for("catalog"))`` of the
change it describes (``publish`` refuses otherwise).
"""

from apps.catalog import cache
from apps.catalog.models import MAX_CATEGORY_DEPTH, Category, Product, ProductCategory, ProductImage, Variant
from apps.events.outbox import publish, publish_many
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


PARENT_PATHS = ["category__" + "parent__" * depth + "slug" for depth in range(MAX_CATEGORY_DEPTH)]
PRODUCT_COLUMNS = ("id", "sku", "name", "description", "is_active", "created_at", "updated_at")


def product_fields(row):
    """The product's own fields on the wire, from a ``values_list(*PRODUCT_COLUMNS)`` row (the
    event document and the product list share them)."""
    pid, sku, name, description, active, created, updated = row
    return {
        "id": str(pid),
        "sku": sku,
        "name": name,
        "description": description,
        "isActive": active,
        "createdAt": iso(created),
        "updatedAt": iso(updated),
    }


def product_documents_by_id(product_ids):
    """``{product id: document}``: the contract's product event payload for each product that
    exists, in 4 queries (products, variants, category links with their ancestors' slugs,
    images) read as tuples: this runs inside every stock reservation, where model instances and
    prefetch caches cost a third of a checkout's CPU (bench/README.md)."""
    ids = list(product_ids)
    if not ids:
        return {}
    documents = {}
    for row in Product.objects.filter(id__in=ids).values_list(*PRODUCT_COLUMNS):
        documents[row[0]] = {
            **product_fields(row),
            "category_names": [],
            "category_slugs": [],
            # Not in the original: the slugs of the categories and all their ancestors, so that a
            # search on a parent category finds the products of its leaves.
            "category_path_slugs": [],
            "variants": [],
            "variant_attributes_flat": [],
            "images": [],
        }
    if not documents:
        return {}
    found = list(documents)
    links = ProductCategory.objects.filter(product_id__in=found).order_by("category__name", "category_id")
    for pid, name, *path in links.values_list("product_id", "category__name", *PARENT_PATHS):
        document = documents[pid]
        document["category_names"].append(name)
        document["category_slugs"].append(path[0])
        for slug in path:
            if slug is not None and slug not in document["category_path_slugs"]:
                document["category_path_slugs"].append(slug)
    variants = Variant.objects.filter(product_id__in=found).order_by("created_at", "id")
    for vid, pid, attributes, price, stock in variants.values_list(
        "id", "product_id", "attributes", "price", "stock_quantity"
    ):
        document = documents[pid]
        document["variants"].append(
            {"id": str(vid), "attributes": attributes or {}, "price": money(price), "stockQuantity": stock}
        )
        for key, value in (attributes or {}).items():
            entry = f"{key}:{value}"
            if entry not in document["variant_attributes_flat"]:
                document["variant_attributes_flat"].append(entry)
    images = ProductImage.objects.filter(product_id__in=found).order_by("order", "created_at", "id")
    for iid, pid, url, alt, primary, order in images.values_list(
        "id", "product_id", "image_url", "alt_text", "is_primary", "order"
    ):
        documents[pid]["images"].append(
            {"id": str(iid), "imageUrl": url, "altText": alt, "isPrimary": primary, "order": order}
        )
    return documents


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
    documents = product_documents_by_id(ids)
    events = [(product_id, documents[product_id]) for product_id in sorted(documents, key=str)]
    publish_many(TOPIC, event_type, events, using=_using(), aggregate_type="product")


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
