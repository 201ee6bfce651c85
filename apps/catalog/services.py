"""Every write of the catalogue, each in one transaction with the events it emits.

Public (other apps call these): ``reserve_stock``, ``release_stock``, ``adjust_stock``.

Stock: ``_change_stock`` is the only code that changes ``Variant.stock_quantity``. It locks the
variant rows in id order (``SELECT ... FOR UPDATE ORDER BY id``: two checkouts touching the same
variants queue instead of deadlocking), refuses to go below zero, updates every variant in one
``UPDATE`` whose ``WHERE`` holds each row's own "stock + change >= 0" as a second guard (the CHECK
constraint is the third), and writes one ``StockMovement`` per variant in the same transaction: the sum of a
variant's movements is its stock. On SQLite, ``BEGIN IMMEDIATE`` serialises writers instead.

Lock order, on every write path: the products first (``events.lock_products``, in id order; it
also increments their document version), then their variants (in id order). A stock change
therefore locks the products of its variants before the variants themselves, so two checkouts of
different variants of one product publish consistent documents in commit order, and a checkout
and a product edit never wait for each other in opposite orders.
"""

import uuid
from collections.abc import Iterable

from django.db import IntegrityError, connections, transaction
from django.db.models import Case, F, JSONField, Q, Sum, When
from django.utils import timezone

from apps.catalog import events, republish
from apps.catalog.models import (
    MAX_CATEGORY_DEPTH,
    Category,
    Product,
    ProductCategory,
    ProductImage,
    StockMovement,
    StockMovementType,
    Variant,
)
from ecommerce.db import alias_for
from ecommerce.errors import BadRequest, Conflict, NotFound
from ecommerce.sql import CompiledQuery, InArray, insert_rows

MAX_STOCK = 2_000_000_000


class InsufficientStock(Conflict):
    """A reservation asked for more than a variant holds."""

    def __init__(self, variant_id, available, requested=None):
        self.variant_id = str(variant_id)
        self.available = available
        self.requested = requested
        super().__init__(
            f"Insufficient stock for variant {variant_id}: {available} available.",
            extra={"variantId": str(variant_id), "available": available},
        )


def _atomic():
    return transaction.atomic(using=alias_for("catalog"))


def _uuid(value, message):
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(message)


# --- Stock: the one writer ---------------------------------------------------------------------


# Locks the variant rows only (not their products); reads the products' state in passing.
# Compiled once per connection (ecommerce/sql.py): it runs in every checkout.
_LOCKED_VARIANT_ROWS = CompiledQuery(
    lambda: (
        Variant.objects.select_for_update(of=("self",))
        .filter(InArray("id"))
        .order_by("id")
        .values_list("id", "stock_quantity", "product_id", "product__is_active", "product__sku")
    )
)


def _change_stock(
    changes, movement_type, *, reason="", related_order_id=None, require_active=False, is_reservation=False
):
    """Apply ``{variant_id: change}`` all or nothing; the only writer of ``stock_quantity``.

    Must run inside ``_atomic()``. Returns ``({variant_id: new_quantity}, [movements], {product ids})``.
    Raises ``NotFound`` (unknown variant), ``InsufficientStock`` (would go below zero),
    ``Conflict`` (inactive product, when ``require_active``).
    """
    ids = sorted(changes)
    rows = _LOCKED_VARIANT_ROWS.rows(alias_for("catalog"), ids)
    found = {row[0]: row for row in rows}
    for variant_id in ids:
        if variant_id not in found:
            raise NotFound(f"Variant {variant_id} not found.")
    product_ids = {row[2] for row in rows}
    if require_active:
        inactive = sorted({sku for _, _, _, active, sku in rows if not active})
        if inactive:
            raise Conflict(f"Product {inactive[0]} is not available.")
    now = timezone.now()
    result, movements = {}, []
    for variant_id in ids:
        stock, change = found[variant_id][1], changes[variant_id]
        new_quantity = stock + change
        if new_quantity < 0:
            raise InsufficientStock(variant_id, stock, -change)
        if new_quantity > MAX_STOCK:
            raise BadRequest(f"Stock cannot exceed {MAX_STOCK}.")
        result[str(variant_id)] = new_quantity
        movements.append(
            StockMovement(
                variant_id=variant_id,
                change_quantity=change,
                type=movement_type,
                reason=reason or None,
                related_order_id=related_order_id,
                is_reservation=is_reservation,
                timestamp=now,
            )
        )
    updated = _apply_stock_changes(changes, now)
    if updated != len(ids):  # cannot happen while the rows are locked; kept as a guard
        raise InsufficientStock(ids[0], found[ids[0]][1], -changes[ids[0]])
    insert_rows(movements, alias_for("catalog"))
    return result, movements, product_ids


def _apply_stock_changes(changes, now):
    """Add ``{variant_id: change}`` to the variants' stock in one statement, each row guarded by
    its own "stays >= 0" condition; returns the number of rows updated.

    On PostgreSQL the statement's text is the same for any number of variants (prepared once by
    the server) and is not compiled by the ORM, whose ``Case``/``When`` form cost ~0.4 ms of CPU
    per checkout (bench/README.md finding 18). Elsewhere (SQLite) the ORM's form."""
    ids = sorted(changes)
    connection = connections[alias_for("catalog")]
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        sql = f"""
            UPDATE {quote(Variant._meta.db_table)} AS v
            SET stock_quantity = v.stock_quantity + c.change, updated_at = %s
            FROM unnest(%s::uuid[], %s::integer[]) AS c(id, change)
            WHERE v.id = c.id AND v.stock_quantity >= -c.change
        """  # noqa: S608 - table name only; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, ids, [changes[vid] for vid in ids]])
            return cursor.rowcount
    guard, new_values = Q(), []
    for vid in ids:
        guard |= Q(id=vid, stock_quantity__gte=-changes[vid])
        new_values.append(When(id=vid, then=F("stock_quantity") + changes[vid]))
    return Variant.objects.filter(guard).update(
        stock_quantity=Case(*new_values, default=F("stock_quantity")), updated_at=now
    )


def _positive_lines(lines):
    totals = {}
    for variant_id, quantity in lines:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise BadRequest("Each quantity must be a positive integer.")
        vid = _uuid(variant_id, f"Variant {variant_id} not found.")
        totals[vid] = totals.get(vid, 0) + quantity
    return totals


def reserve_stock(lines: Iterable, *, order_id, reason="", savepoint=True):
    """Take ``quantity`` units of each ``(variant_id, quantity)`` for an order, all or nothing.

    Joins the caller's transaction when it runs inside one on the catalogue's alias; a caller
    that abandons its whole transaction when the reservation fails may pass ``savepoint=False``
    to spare the two round trips of a savepoint it would never roll back to.
    Returns ``{variant_id: new_stock_quantity}``.
    """
    totals = _positive_lines(lines)
    if not totals:
        return {}
    order_uuid = _uuid_or_400(order_id, "order_id")
    with transaction.atomic(using=alias_for("catalog"), savepoint=savepoint):
        locked = events.lock_products(variant_ids=totals)
        result, _, product_ids = _change_stock(
            {vid: -qty for vid, qty in totals.items()},
            StockMovementType.ORDER,
            reason=reason or f"Order {order_uuid}",
            related_order_id=order_uuid,
            require_active=True,
            is_reservation=True,
        )
        events.product_changed(product_ids, stock_only=True, locked=locked)
    return result


# What a checkout took for an order is its reservation (a hand-entered ORDER movement is a
# sale); what was given back, the units ORDER_CANCELLED movements returned (a negative one,
# entered by hand, took units and gave nothing back).
_RESERVED = Q(type=StockMovementType.ORDER, is_reservation=True)
_GIVEN_BACK = Q(type=StockMovementType.ORDER_CANCELLED, change_quantity__gt=0)


def release_stock(order_id, *, reason=""):
    """Give back what ``reserve_stock`` took for ``order_id`` (``ORDER_CANCELLED`` movements).

    Idempotent: what is already given back is not given back again. Returns the units released.
    Never more than the reservation: a movement entered by hand with the order's id (before
    ``adjust_stock`` refused them) is no part of it; one that gave units back counts as given back.
    """
    order_uuid = _uuid_or_400(order_id, "order_id")
    with _atomic():
        variant_ids = sorted(
            set(
                StockMovement.objects.filter(_RESERVED, related_order_id=order_uuid).values_list(
                    "variant_id", flat=True
                )
            )
        )
        if not variant_ids:
            return 0
        # Lock first (products, then variants), then read the ledger: two concurrent releases
        # cannot both see "not yet released".
        locked = events.lock_products(variant_ids=variant_ids)
        list(
            Variant.objects.select_for_update(of=("self",)).filter(id__in=variant_ids).order_by("id").values_list("id")
        )
        ledger = (
            StockMovement.objects.filter(
                _RESERVED | _GIVEN_BACK, related_order_id=order_uuid, variant_id__in=variant_ids
            )
            .values("variant_id")
            .annotate(
                taken=Sum("change_quantity", filter=_RESERVED),
                given=Sum("change_quantity", filter=_GIVEN_BACK),
            )
        )
        changes = {}
        for row in ledger:
            taken, given = -(row["taken"] or 0), row["given"] or 0
            if taken - given > 0:
                changes[row["variant_id"]] = taken - given
        if not changes:
            return 0
        _, _, product_ids = _change_stock(
            changes,
            StockMovementType.ORDER_CANCELLED,
            reason=reason or f"Order {order_uuid} cancelled",
            related_order_id=order_uuid,
        )
        events.product_changed(product_ids, stock_only=True, locked=locked)
    return sum(changes.values())


def adjust_stock(variant_id, change_quantity, movement_type, *, reason="", related_order_id=None):
    """Change one variant's stock by ``change_quantity`` (≠ 0). Returns ``(movement, new_quantity)``.

    Going below zero is refused with 400 ``Insufficient stock for the requested decrease.``
    An ``ORDER`` or ``ORDER_CANCELLED`` movement naming an order a checkout reserved for is
    refused (400): ``release_stock`` reads that order's ledger, so such a row changed what its
    cancellation gave back. An order id the checkout never saw (a till's phone sale) is fine.
    """
    vid = _uuid(variant_id, "Variant not found.")
    if isinstance(change_quantity, bool) or not isinstance(change_quantity, int) or change_quantity == 0:
        raise BadRequest("'changeQuantity' must be a non-zero integer.")
    if movement_type not in StockMovementType.values:
        raise BadRequest(f"Invalid 'type'. Must be one of: {', '.join(StockMovementType.values)}.")
    order_uuid = None
    if related_order_id not in (None, ""):
        try:
            order_uuid = uuid.UUID(str(related_order_id))
        except ValueError:
            raise BadRequest("'relatedOrderId' must be a UUID.")
    if order_uuid is not None and movement_type in (StockMovementType.ORDER, StockMovementType.ORDER_CANCELLED):
        # No lock needed: a checkout's reservation is the first ledger row with its order's id.
        if StockMovement.objects.filter(_RESERVED, related_order_id=order_uuid).exists():
            message = f"Order {order_uuid} was placed at checkout: its stock moves only with its status."
            raise BadRequest(message, errors={"relatedOrderId": [message]})
    with _atomic():
        locked = events.lock_products(variant_ids=[vid])
        if not locked:
            raise NotFound("Variant not found.")
        try:
            result, movements, product_ids = _change_stock(
                {vid: change_quantity}, movement_type, reason=reason, related_order_id=order_uuid
            )
        except InsufficientStock:
            raise BadRequest("Insufficient stock for the requested decrease.")
        events.product_changed(product_ids, stock_only=True, locked=locked)
    return movements[0], result[str(vid)]


# --- Products ----------------------------------------------------------------------------------


def _valid_uuids(values):
    """The values that are UUIDs; the others cannot name a row, so they match nothing."""
    ids = []
    for raw in values:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return ids


def _resolve_categories(category_ids=(), category_slugs=(), *, missing_status=BadRequest):
    """Categories by ids and slugs; unknown ones are refused, non-leaf ones are a 409."""
    wanted_ids, categories = [], {}
    for raw in category_ids or ():
        try:
            wanted_ids.append(uuid.UUID(str(raw)))
        except ValueError:
            raise missing_status(f"Category not found: {raw}.")
    if wanted_ids:
        for category in Category.objects.filter(id__in=wanted_ids):
            categories[category.id] = category
        missing = [str(c) for c in wanted_ids if c not in categories]
        if missing:
            raise missing_status(f"Category not found: {', '.join(missing)}.")
    slugs = list(category_slugs or ())
    if slugs:
        by_slug = {c.slug: c for c in Category.objects.filter(slug__in=slugs)}
        missing = [s for s in slugs if s not in by_slug]
        if missing:
            raise missing_status(f"Category not found: {', '.join(missing)}.")
        for category in by_slug.values():
            categories[category.id] = category
    if categories:
        parents = set(
            Category.objects.filter(parent_id__in=list(categories)).values_list("parent_id", flat=True).distinct()
        )
        non_leaf = sorted(categories[c].slug for c in parents)
        if non_leaf:
            raise Conflict(
                f"Products can only be assigned to leaf categories: {', '.join(non_leaf)} has sub-categories."
            )
    return list(categories.values())


def _normalise_images(images, product_has_primary=False):
    """At most one primary: the first image marked primary wins."""
    seen_primary = False
    rows = []
    for image in images:
        primary = bool(image.get("is_primary")) and not seen_primary
        seen_primary = seen_primary or primary
        rows.append({**image, "is_primary": primary})
    return rows, seen_primary


def _add_images(product_id, images):
    rows, has_primary = _normalise_images(images)
    if has_primary:
        ProductImage.objects.filter(product_id=product_id, is_primary=True).update(is_primary=False)
    ProductImage.objects.bulk_create(
        [
            ProductImage(
                product_id=product_id,
                image_url=row["image_url"],
                alt_text=row.get("alt_text"),
                is_primary=row["is_primary"],
                order=row.get("order") or 0,
            )
            for row in rows
        ]
    )
    return len(rows)


def _create_variants(product_id, variants):
    created = []
    for data in variants:
        created.append(
            Variant(
                product_id=product_id,
                attributes=data.get("attributes") or {},
                price=data["price"],
                cost_price=data.get("cost_price"),
                low_stock_threshold=data.get("low_stock_threshold", 5),
            )
        )
    Variant.objects.bulk_create(created)
    initial = {v.id: int(d.get("initial_stock_quantity") or 0) for v, d in zip(created, variants, strict=True)}
    initial = {vid: qty for vid, qty in initial.items() if qty > 0}
    if initial:
        _change_stock(initial, StockMovementType.INITIAL_STOCK, reason="Initial stock")
    return created


def _create_product(data):
    sku = data["sku"]
    if Product.objects.filter(sku=sku).exists():
        raise Conflict(f"A product with SKU '{sku}' already exists.")
    categories = _resolve_categories(data.get("category_ids"), data.get("category_slugs"))
    product = Product.objects.create(
        sku=sku,
        name=data["name"],
        description=data.get("description"),
        is_active=data.get("is_active", True),
    )
    ProductCategory.objects.bulk_create([ProductCategory(product=product, category=c) for c in categories])
    _create_variants(product.id, data.get("variants") or [])
    if data.get("images"):
        _add_images(product.id, data["images"])
    return product


def _unique_violation(exc, field):
    # A concurrent insert won the race between our check and our write.
    return Conflict(f"Unique constraint violation: {field}.")


def create_product(data):
    """Create a product with its categories, variants (and initial stock) and images."""
    try:
        with _atomic():
            product = _create_product(data)
            events.product_changed([product.id], events.PRODUCT_CREATED)
    except IntegrityError as exc:
        raise _unique_violation(exc, "sku")
    return product


def create_products(items):
    """Bulk create, all or nothing. Returns the products in input order."""
    skus = [item["sku"] for item in items]
    duplicates = sorted({s for s in skus if skus.count(s) > 1})
    if duplicates:
        raise Conflict(f"Duplicate SKU in the request: {', '.join(duplicates)}.")
    try:
        with _atomic():
            products = [_create_product(item) for item in items]
            events.product_changed([p.id for p in products], events.PRODUCT_CREATED)
    except IntegrityError as exc:
        raise _unique_violation(exc, "sku")
    return products


def _get_product_for_update(product_id):
    pid = _uuid(product_id, "Product not found")
    product = Product.objects.select_for_update().filter(id=pid).first()
    if product is None:
        raise NotFound("Product not found")
    return product


PRODUCT_FIELDS = ("sku", "name", "description", "is_active")


def update_product(product_id, data):
    try:
        with _atomic():
            product = _get_product_for_update(product_id)
            if "sku" in data and data["sku"] != product.sku:
                if Product.objects.filter(sku=data["sku"]).exclude(id=product.id).exists():
                    raise Conflict(f"A product with SKU '{data['sku']}' already exists.")
            for field in PRODUCT_FIELDS:
                if field in data:
                    setattr(product, field, data[field])
            product.save()
            events.product_changed([product.id])
    except IntegrityError as exc:
        raise _unique_violation(exc, "sku")
    return product


def delete_product(product_id):
    with _atomic():
        product = _get_product_for_update(product_id)
        pid, version = product.id, product.version
        product.delete()
        events.product_deleted(pid, version + 1)


def attach_categories(product_id, category_ids):
    with _atomic():
        product = _get_product_for_update(product_id)
        categories = _resolve_categories(category_ids, missing_status=NotFound)
        existing = set(ProductCategory.objects.filter(product=product).values_list("category_id", flat=True))
        ProductCategory.objects.bulk_create(
            [ProductCategory(product=product, category=c) for c in categories if c.id not in existing]
        )
        events.product_changed([product.id], touch=True)
    return product


def detach_categories(product_id, category_ids):
    ids = _valid_uuids(category_ids)
    with _atomic():
        product = _get_product_for_update(product_id)
        removed, _ = ProductCategory.objects.filter(product=product, category_id__in=ids).delete()
        if removed:
            events.product_changed([product.id], touch=True)
    return removed


def add_images(product_id, images):
    with _atomic():
        product = _get_product_for_update(product_id)
        count = _add_images(product.id, images)
        events.product_changed([product.id], touch=True)
    return count


def remove_images(product_id, image_ids):
    ids = _valid_uuids(image_ids)
    with _atomic():
        product = _get_product_for_update(product_id)
        removed, _ = ProductImage.objects.filter(product=product, id__in=ids).delete()
        if removed:
            events.product_changed([product.id], touch=True)
    return removed


# --- Variants ----------------------------------------------------------------------------------


def _get_variant(product_id, variant_id, lock=False):
    pid = _uuid(product_id, "Product not found")
    vid = _uuid(variant_id, "Variant not found")
    queryset = Variant.objects.select_for_update() if lock else Variant.objects
    variant = queryset.filter(id=vid, product_id=pid).first()
    if variant is None:
        if not Product.objects.filter(id=pid).exists():
            raise NotFound("Product not found")
        raise NotFound("Variant not found")
    return variant


def create_variant(product_id, data):
    with _atomic():
        product = _get_product_for_update(product_id)
        (variant,) = _create_variants(product.id, [data])
        events.product_changed([product.id], touch=True)
    variant.refresh_from_db()
    return variant


VARIANT_FIELDS = ("attributes", "price", "cost_price", "low_stock_threshold")


def _lock_variant(product_id, variant_id):
    """The variant, locked after its product (lock order: product, then variant); the product's
    version is incremented and its ``updated_at`` set. Returns ``(variant, locked product ids)``."""
    locked = events.lock_products([_uuid(product_id, "Product not found")], touch=True)
    return _get_variant(product_id, variant_id, lock=True), locked


def update_variant(product_id, variant_id, data):
    with _atomic():
        variant, locked = _lock_variant(product_id, variant_id)
        fields = [f for f in VARIANT_FIELDS if f in data]
        for field in fields:
            setattr(variant, field, data[field])
        variant.save(update_fields=[*fields, "updated_at"])
        events.product_changed([variant.product_id], locked=locked)
    return variant


def delete_variant(product_id, variant_id):
    with _atomic():
        variant, locked = _lock_variant(product_id, variant_id)
        if StockMovement.objects.filter(variant=variant).exists():
            raise Conflict(
                "Cannot delete variant with existing stock movements.",
                extra={"code": "VARIANT_HAS_STOCK_MOVEMENTS"},
            )
        product_id = variant.product_id
        variant.delete()
        events.product_changed([product_id], locked=locked)


# --- Categories --------------------------------------------------------------------------------


def _depth(category):
    """1 for a root; walks up the parents (the tree is at most MAX_CATEGORY_DEPTH deep)."""
    depth, node = 1, category
    while node.parent_id is not None:
        node = Category.objects.only("id", "parent_id").get(id=node.parent_id)
        depth += 1
        if depth > MAX_CATEGORY_DEPTH + 1:
            break
    return depth


def _height(category_id):
    """Levels in the subtree rooted at ``category_id`` (1 for a leaf)."""
    height, level = 0, [category_id]
    while level:
        height += 1
        level = list(Category.objects.filter(parent_id__in=level).values_list("id", flat=True))
    return height


def _parent_for(parent_id, *, subtree_height=1, moving_id=None):
    if parent_id in (None, ""):
        return None
    pid = parent_id if isinstance(parent_id, uuid.UUID) else _uuid_or_400(parent_id, "parentId")
    parent = Category.objects.filter(id=pid).first()
    if parent is None:
        raise NotFound("Parent category not found")
    if moving_id is not None:
        node = parent
        while node is not None:
            if node.id == moving_id:
                raise BadRequest("A category cannot be moved under itself or one of its descendants.")
            node = node.parent
    if _depth(parent) + subtree_height > MAX_CATEGORY_DEPTH:
        raise BadRequest(f"The category tree cannot be deeper than {MAX_CATEGORY_DEPTH} levels.")
    if ProductCategory.objects.filter(category=parent).exists():
        raise Conflict("The parent category has products: products can only be in leaf categories.")
    return parent


def _uuid_or_400(value, field):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadRequest(f"'{field}' must be a UUID.")


def _create_category(data, parent=None):
    if Category.objects.filter(slug=data["slug"]).exists():
        raise Conflict(f"A category with slug '{data['slug']}' already exists.")
    if parent is None:
        parent = _parent_for(data.get("parent_id"))
    category = Category.objects.create(
        name=data["name"], slug=data["slug"], parent=parent, image_url=data.get("image_url")
    )
    events.category_changed(category, events.CATEGORY_CREATED)
    return category


def create_category(data):
    try:
        with _atomic():
            return _create_category(data)
    except IntegrityError:
        raise Conflict(f"A category with slug '{data['slug']}' already exists.")


def create_categories(items):
    """Bulk create, all or nothing; an item may name its parent by ``parentSlug``, also one
    created earlier in the same request."""
    slugs = [item["slug"] for item in items]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise Conflict(f"Duplicate slug in the request: {', '.join(duplicates)}.")
    created = []
    try:
        with _atomic():
            for item in items:
                parent = None
                if item.get("parent_slug"):
                    parent = Category.objects.filter(slug=item["parent_slug"]).first()
                    if parent is None:
                        raise NotFound(f"Parent category '{item['parent_slug']}' not found")
                    parent = _parent_for(parent.id)
                created.append(_create_category(item, parent=parent))
    except IntegrityError:
        raise Conflict("Unique constraint violation: slug.")
    return created


def update_category(category_id, data):
    cid = _uuid(category_id, "Category not found")
    try:
        with _atomic():
            category = Category.objects.select_for_update().filter(id=cid).first()
            if category is None:
                raise NotFound("Category not found")
            if "slug" in data and data["slug"] != category.slug:
                if Category.objects.filter(slug=data["slug"]).exclude(id=cid).exists():
                    raise Conflict(f"A category with slug '{data['slug']}' already exists.")
            moved = False
            if "parent_id" in data:
                new_parent = data["parent_id"]
                if str(new_parent or "") != str(category.parent_id or ""):
                    category.parent = _parent_for(new_parent, subtree_height=_height(cid), moving_id=cid)
                    moved = True
            for field in ("name", "slug", "image_url"):
                if field in data:
                    setattr(category, field, data[field])
            category.save()
            events.category_changed(category, events.CATEGORY_UPDATED)
            if moved or {"name", "slug"} & set(data):
                # The documents of every product below it carry its name or its ancestors' slugs;
                # they are republished in chunks after the commit (republish.py).
                republish.request(cid)
    except IntegrityError:
        raise Conflict("Unique constraint violation: slug.")
    return category


def delete_category(category_id):
    cid = _uuid(category_id, "Category not found")
    with _atomic():
        category = Category.objects.select_for_update().filter(id=cid).first()
        if category is None:
            raise NotFound("Category not found")
        if Category.objects.filter(parent_id=cid).exists():
            raise Conflict("Cannot delete a category that has sub-categories.")
        if ProductCategory.objects.filter(category_id=cid).exists():
            raise Conflict("Cannot delete a category that has products.")
        category.delete()
        events.category_deleted(cid)


__all__ = [
    "InsufficientStock",
    "reserve_stock",
    "release_stock",
    "adjust_stock",
    "create_product",
    "create_products",
    "update_product",
    "delete_product",
    "attach_categories",
    "detach_categories",
    "add_images",
    "remove_images",
    "create_variant",
    "update_variant",
    "delete_variant",
    "create_category",
    "create_categories",
    "update_category",
    "delete_category",
]


# --- Bulk loading (demo and benchmark catalogues) -----------------------------------------------


def bulk_load_products(items, *, emit_events=False):
    """Insert many new products at once (demo and benchmark catalogues): PostgreSQL ``COPY``,
    ``bulk_create`` elsewhere.

    ``items``: dicts like ``create_product``'s input with ``category_ids`` resolved by the caller
    (leaf categories). This is the one place that sets ``stock_quantity`` outside
    ``_change_stock``: a variant is inserted with its initial quantity together with the
    ``INITIAL_STOCK`` movement of the same amount, in the same transaction, so the ledger still
    sums to the stock. Without ``emit_events`` no outbox rows are written: run
    ``manage.py reindex`` (search app) afterwards, which reads ``selectors.product_documents``.
    Returns the new product ids.
    """
    now = timezone.now()
    tables = {model: [] for model in (Product, ProductCategory, Variant, StockMovement, ProductImage)}
    product_ids = []
    for item in items:
        pid = uuid.uuid4()
        product_ids.append(pid)
        tables[Product].append(
            {
                "id": pid,
                "sku": item["sku"],
                "name": item["name"],
                "description": item.get("description"),
                "is_active": item.get("is_active", True),
                "created_at": now,
                "updated_at": now,
            }
        )
        for cid in item.get("category_ids") or ():
            tables[ProductCategory].append(
                {"id": uuid.uuid4(), "product_id": pid, "category_id": cid, "assigned_at": now}
            )
        for data in item.get("variants") or ():
            vid, quantity = uuid.uuid4(), int(data.get("initial_stock_quantity") or 0)
            tables[Variant].append(
                {
                    "id": vid,
                    "product_id": pid,
                    "attributes": data.get("attributes") or {},
                    "price": data["price"],
                    "cost_price": data.get("cost_price"),
                    "stock_quantity": quantity,
                    "low_stock_threshold": data.get("low_stock_threshold", 5),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if quantity:
                tables[StockMovement].append(
                    {
                        "id": uuid.uuid4(),
                        "variant_id": vid,
                        "change_quantity": quantity,
                        "type": StockMovementType.INITIAL_STOCK.value,
                        "reason": "Initial stock",
                        "related_order_id": None,
                        "timestamp": now,
                    }
                )
        rows, _ = _normalise_images(item.get("images") or ())
        for row in rows:
            tables[ProductImage].append(
                {
                    "id": uuid.uuid4(),
                    "product_id": pid,
                    "image_url": row["image_url"],
                    "alt_text": row.get("alt_text"),
                    "is_primary": row["is_primary"],
                    "order": row.get("order") or 0,
                    "created_at": now,
                }
            )
    using = alias_for("catalog")
    with _atomic():
        for model, rows in tables.items():
            if rows:
                _insert_many(model, rows, using)
        if emit_events:
            events.product_changed(product_ids, events.PRODUCT_CREATED)
    return product_ids


def _insert_many(model, rows, using):
    connection = connections[using]
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=1000)
        return
    from psycopg.types.json import Jsonb

    columns = list(rows[0])
    quoted = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({quoted}) FROM STDIN"
    json_columns = {c for c in columns if isinstance(model._meta.get_field(c), JSONField)}
    with connection.cursor() as cursor:
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([Jsonb(v) if c in json_columns else v for c, v in row.items()])
