"""What the catalogue publishes on ``product_events`` (key = product id).

``PRODUCT_CREATED`` / ``PRODUCT_UPDATED`` carry the whole product document (the contract's
payload, also what ``selectors.product_documents`` yields for a reindex) with its ``version``;
``PRODUCT_DELETED`` carries ``{id, version}``.

Versions: every transaction that publishes an event about a product first increments the
product's ``version`` (``lock_products``: ``UPDATE ... SET version = version + 1`` in id order,
which takes the product's row lock), then reads the document. Two writers of one product are
thus serialised: the second waits for the first to commit and, under READ COMMITTED, then reads
the first's changes. Documents of a product therefore carry strictly increasing versions in
commit order, and each one is consistent; consumers keep the highest version they applied.
Lock order on every write path: products (by id), then variants (by id).

``CATEGORY_CREATED`` / ``CATEGORY_UPDATED`` / ``CATEGORY_DELETED`` are emitted as the original
did; consumers of product events ignore them.

Every function here must run inside the ``transaction.atomic(using=alias_for("catalog"))`` of the
change it describes (``publish`` refuses otherwise).
"""

from django.db import connections
from django.db.models import F, Q
from django.utils import timezone

from apps.catalog import cache
from apps.catalog.models import MAX_CATEGORY_DEPTH, Category, Product, ProductCategory, ProductImage, Variant
from apps.events.outbox import publish, publish_many
from ecommerce.db import alias_for
from ecommerce.sql import CompiledQuery, InArray

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


# The 4 reads of the documents, compiled once per connection (ecommerce/sql.py): they run inside
# every stock reservation, where the ORM's compilation of them cost ~1 ms of CPU per checkout.
_PRODUCT_ROWS = CompiledQuery(lambda: Product.objects.filter(InArray("id")).values_list(*PRODUCT_COLUMNS, "version"))
_CATEGORY_ROWS = CompiledQuery(
    lambda: (
        ProductCategory.objects.filter(InArray("product_id"))
        .order_by("category__name", "category_id")
        .values_list("product_id", "category__name", *PARENT_PATHS)
    )
)
_VARIANT_ROWS = CompiledQuery(
    lambda: (
        Variant.objects.filter(InArray("product_id"))
        .order_by("created_at", "id")
        .values_list("id", "product_id", "attributes", "price", "stock_quantity")
    )
)
_IMAGE_ROWS = CompiledQuery(
    lambda: (
        ProductImage.objects.filter(InArray("product_id"))
        .order_by("order", "created_at", "id")
        .values_list("id", "product_id", "image_url", "alt_text", "is_primary", "order")
    )
)


def product_documents_by_id(product_ids):
    """``{product id: document}``: the contract's product event payload for each product that
    exists, in 4 queries (products, variants, category links with their ancestors' slugs,
    images) read as tuples: this runs inside every stock reservation, where model instances and
    prefetch caches cost a third of a checkout's CPU (bench/README.md)."""
    ids = list(product_ids)
    if not ids:
        return {}
    using = _using()
    products = _PRODUCT_ROWS.rows(using, ids)
    if not products:
        return {}
    found = [row[0] for row in products]
    return documents_from_rows(
        products, _CATEGORY_ROWS.rows(using, found), _VARIANT_ROWS.rows(using, found), _IMAGE_ROWS.rows(using, found)
    )


def documents_from_rows(products, categories, variants, images):
    """The documents from the rows of the 4 reads above (``product_documents_by_id``)."""
    documents = {}
    for *row, version in products:
        documents[row[0]] = {
            **product_fields(row),
            # Not in the original: strictly increases with every event about the product
            # (consumers order documents by it; lock_products).
            "version": version,
            "category_names": [],
            "category_slugs": [],
            # Not in the original: the slugs of the categories and all their ancestors, so that a
            # search on a parent category finds the products of its leaves.
            "category_path_slugs": [],
            "variants": [],
            "variant_attributes_flat": [],
            "images": [],
        }
    for pid, name, *path in categories:
        document = documents[pid]
        document["category_names"].append(name)
        document["category_slugs"].append(path[0])
        for slug in path:
            if slug is not None and slug not in document["category_path_slugs"]:
                document["category_path_slugs"].append(slug)
    for vid, pid, attributes, price, stock in variants:
        document = documents[pid]
        document["variants"].append(
            {"id": str(vid), "attributes": attributes or {}, "price": money(price), "stockQuantity": stock}
        )
        for key, value in (attributes or {}).items():
            entry = f"{key}:{value}"
            if entry not in document["variant_attributes_flat"]:
                document["variant_attributes_flat"].append(entry)
    for iid, pid, url, alt, primary, order in images:
        documents[pid]["images"].append(
            {"id": str(iid), "imageUrl": url, "altText": alt, "isPrimary": primary, "order": order}
        )
    return documents


def _using():
    return alias_for("catalog")


def lock_products(product_ids=(), *, variant_ids=(), touch=False):
    """Lock the products (``product_ids`` and the products of ``variant_ids``) in id order and
    increment their ``version``; with ``touch`` also set their ``updated_at``. Returns the ids of
    the products that exist, sorted.

    Call it before locking any of their variants (lock order: products, then variants). On
    PostgreSQL it is one statement: a CTE locks the rows (``ORDER BY id FOR UPDATE``), then the
    ``UPDATE`` increments them. The variants' products are folded into the one id array the
    primary key is probed with: ``id = ANY(...) OR id IN (subquery)`` read the whole products
    table (8 ms a checkout at 50k products). Elsewhere (SQLite) the transaction's ``BEGIN IMMEDIATE``
    already serialises writers."""
    product_ids = sorted({str(pid) for pid in product_ids})
    variant_ids = sorted({str(vid) for vid in variant_ids})
    if not product_ids and not variant_ids:
        return []
    connection = connections[_using()]
    now = timezone.now() if touch else None
    if connection.vendor == "postgresql":
        table, quote = Product._meta.db_table, connection.ops.quote_name
        variants = quote(Variant._meta.db_table)
        touched = ", updated_at = %s" if touch else ""
        sql = f"""
            WITH locked AS (
                SELECT id FROM {quote(table)}
                WHERE id = ANY(%s::uuid[] || ARRAY(SELECT product_id FROM {variants} WHERE id = ANY(%s::uuid[])))
                ORDER BY id FOR UPDATE
            )
            UPDATE {quote(table)} AS p SET version = p.version + 1{touched}
            FROM locked WHERE p.id = locked.id RETURNING p.id
        """  # noqa: S608 - table names only; values are parameters
        params = [product_ids, variant_ids, *([now] if touch else [])]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return sorted(row[0] for row in cursor.fetchall())
    wanted = Q(id__in=product_ids) | Q(id__in=Variant.objects.filter(id__in=variant_ids).values("product_id"))
    ids = sorted(Product.objects.filter(wanted).values_list("id", flat=True))
    values = {"version": F("version") + 1, **({"updated_at": now} if touch else {})}
    Product.objects.filter(id__in=ids).update(**values)
    return ids


def product_changed(product_ids, event_type=PRODUCT_UPDATED, *, stock_only=False, locked=(), touch=False):
    """Publish the current document of each product (fetched in 4 queries), in id order.

    First increments the version of (and locks) the products not in ``locked`` (those the caller
    already passed to ``lock_products`` in this transaction); ``touch`` also sets their
    ``updated_at``. Also drops the products' cached details and, unless only stock moved, the
    cached category list (its product counts)."""
    ids = sorted({str(pid) for pid in product_ids})
    if not ids:
        return
    pending = set(ids) - {str(pid) for pid in locked}
    if pending:
        lock_products(pending, touch=touch)
    cache.invalidate(ids, categories=not stock_only, using=_using())
    documents = product_documents_by_id(ids)
    events = [(product_id, documents[product_id]) for product_id in sorted(documents, key=str)]
    publish_many(TOPIC, event_type, events, using=_using(), aggregate_type="product")


def product_deleted(product_id, version=None):
    """``version``: the deleted product's last version + 1 (read under its row lock), when known."""
    cache.invalidate([str(product_id)], categories=True, using=_using())
    payload = {"id": str(product_id)}
    if version is not None:
        payload["version"] = version
    publish(TOPIC, PRODUCT_DELETED, product_id, payload, using=_using(), aggregate_type="product")


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
