"""Catalogue state: the category tree, products, variants, images and the stock ledger.

Invariants kept here (the database enforces what it can):
- ``Variant.stock_quantity >= 0`` (CHECK constraint), prices >= 0 (CHECK constraints);
- ``stock_quantity`` is changed only by ``services._change_stock``, which writes a
  ``StockMovement`` in the same transaction, so the sum of a variant's movements equals its stock
  (``Variant.save()`` of an instance read earlier leaves the stock out);
- products are linked only to leaf categories (checked by the services: a constraint cannot see
  the tree).
"""

import uuid

from django.db import models
from django.db.models import Q

from ecommerce.validation import validate_image_url

MAX_CATEGORY_DEPTH = 3


class Category(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, related_name="children", null=True, blank=True)
    image_url = models.CharField(max_length=1000, null=True, blank=True, validators=[validate_image_url])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sku = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=255, db_index=True)
    description = models.TextField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    categories = models.ManyToManyField(Category, through="ProductCategory", related_name="products", blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # The version of the product's document on product_events: incremented (``UPDATE ... SET
    # version = version + 1``, which also takes the row lock) by every transaction that publishes
    # an event about the product, before it reads the document (``events.lock_products``).
    # Consumers keep the highest version they applied. ``save()`` never writes it back.
    version = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self):
        return f"{self.sku} {self.name}"

    def save(self, *args, **kwargs):
        # An instance read before a concurrent event (the admin's form, say) must not put its
        # older version back: an update saves every field but the version.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "version"
            ]
        super().save(*args, **kwargs)


class ProductCategory(models.Model):
    """The product ↔ category link (the wire shows it as ``{productId, categoryId, category}``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="product_categories")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="product_links")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "category"], name="catalog_product_category_once")]

    def __str__(self):
        return f"{self.product_id} in {self.category_id}"


class Variant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    attributes = models.JSONField(default=dict, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, db_index=True)
    cost_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    stock_quantity = models.IntegerField(default=0, editable=False)
    low_stock_threshold = models.IntegerField(null=True, blank=True, default=5)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["product", "price"], name="catalog_variant_product_price")]
        constraints = [
            models.CheckConstraint(condition=Q(stock_quantity__gte=0), name="catalog_variant_stock_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_variant_price_not_negative"),
            models.CheckConstraint(
                condition=Q(cost_price__isnull=True) | Q(cost_price__gte=0),
                name="catalog_variant_cost_price_not_negative",
            ),
        ]

    def __str__(self):
        attrs = self.attributes_text()
        return f"{self.product_id} ({attrs})" if attrs else str(self.id)

    def save(self, *args, **kwargs):
        # Only ``services._change_stock`` writes the stock, with the ledger row, under the row
        # lock. An instance read earlier (an admin form waiting for the product's lock while a
        # checkout commits) would put its older stock back: an update saves every field but the
        # stock. A row deleted meanwhile then fails the save instead of being inserted again.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "stock_quantity"
            ]
        super().save(*args, **kwargs)

    def attributes_text(self):
        """``color: blue, size: L`` (empty without attributes), by name: PostgreSQL's jsonb keeps
        its own key order, not the one written."""
        return ", ".join(f"{k}: {v}" for k, v in sorted((self.attributes or {}).items()))


class ProductImage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image_url = models.CharField(max_length=1000, validators=[validate_image_url])
    alt_text = models.CharField(max_length=500, null=True, blank=True)
    is_primary = models.BooleanField(default=False)
    order = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "created_at", "id"]

    def __str__(self):
        return self.image_url


class StockMovementType(models.TextChoices):
    INITIAL_STOCK = "INITIAL_STOCK"
    ADMIN_UPDATE = "ADMIN_UPDATE"
    ORDER = "ORDER"
    ADJUSTMENT = "ADJUSTMENT"
    ORDER_CANCELLED = "ORDER_CANCELLED"


class StockMovement(models.Model):
    """One line of the stock ledger; rows are only ever inserted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="stock_movements")
    change_quantity = models.IntegerField()
    type = models.CharField(max_length=20, choices=StockMovementType.choices)
    reason = models.CharField(max_length=500, null=True, blank=True)
    related_order_id = models.UUIDField(null=True, blank=True, db_index=True)
    # True on the ORDER movements ``reserve_stock`` writes for a checkout. The orders' reconciler
    # gives back only such reservations: an ORDER movement entered by hand (the adjust API lets
    # staff record, say, a phone sale with its till's order id) is a sale, not a reservation.
    is_reservation = models.BooleanField(default=False, db_default=False)
    timestamp = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["variant", "-timestamp"], name="catalog_movement_variant_ts")]
        constraints = [models.CheckConstraint(condition=~Q(change_quantity=0), name="catalog_movement_not_zero")]

    def __str__(self):
        return f"{self.type} {self.change_quantity:+d} on {self.variant_id}"


class CategoryRepublish(models.Model):
    """Pending work: republish the documents of every product below ``category`` (renamed or
    moved: its products' documents carry its name and its ancestors' slugs).

    A root category can hold tens of thousands of products; republishing them all in the rename's
    transaction held their row locks for seconds and could outlast a request. The rename only
    writes this row; ``republish.run_pending`` then republishes the subtree in chunks of
    ``CATALOG_REPUBLISH_CHUNK`` products, each chunk in its own transaction that also moves
    ``after_product_id``, so a crash resumes where the last chunk committed."""

    id = models.BigAutoField(primary_key=True)
    category = models.OneToOneField(Category, on_delete=models.CASCADE, related_name="pending_republish")
    # The last product republished (products go in id order); None: not started.
    after_product_id = models.UUIDField(null=True, blank=True)
    requested_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["requested_at", "id"], name="catalog_republish_queue")]

    def __str__(self):
        return f"republish below {self.category_id} after {self.after_product_id}"
