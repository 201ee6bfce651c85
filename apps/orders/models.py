"""Orders context: orders, their lines, idempotency keys and the local copies of products and
users kept up to date from ``product_events`` / ``auth_events``.

No foreign key leaves the context: ``user_id``, ``product_id`` and ``variant_id`` are plain UUID
values; what an order needs to show about them is copied onto the line at checkout
(``product_name``, ``sku``, ``image_url``, ``price_at_time_of_order``) or read from the
denormalised copies.
"""

import uuid

from django.db import models


class OrderStatus(models.TextChoices):
    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class PaymentMethod(models.TextChoices):
    CREDIT_CARD = "CREDIT_CARD"
    CASH_ON_DELIVERY = "CASH_ON_DELIVERY"


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(null=True, blank=True)
    guest_email = models.EmailField(max_length=254, null=True, blank=True)
    guest_name = models.CharField(max_length=200, null=True, blank=True)
    phone = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    shipping_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_address = models.JSONField(null=True, blank=True)
    # The cart this order was checked out from (null for an order of ``items``): the cart's id and
    # its instance (the id outlives its cart: the shop re-creates an empty cart under the same id).
    # Unique together, so a cart a dead checkout left behind cannot be ordered a second time.
    cart_id = models.UUIDField(null=True, blank=True, editable=False)
    cart_instance_id = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart_id", "cart_instance_id"],
                condition=models.Q(cart_id__isnull=False),
                name="orders_one_order_per_cart",
            ),
            models.CheckConstraint(
                condition=models.Q(cart_id__isnull=True, cart_instance_id__isnull=True)
                | models.Q(cart_id__isnull=False, cart_instance_id__isnull=False),
                name="orders_cart_id_with_instance",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="orders_created_idx"),
            models.Index(fields=["user_id", "-created_at"], name="orders_user_created_idx"),
            models.Index(fields=["status", "-created_at"], name="orders_status_created_idx"),
            models.Index(fields=["guest_email"], name="orders_guest_email_idx"),
        ]

    def __str__(self):
        return f"Order {self.id} ({self.status})"


class OrderItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, related_name="items", on_delete=models.CASCADE)
    product_id = models.UUIDField()
    variant_id = models.UUIDField()
    product_name = models.CharField(max_length=255)
    variant_attributes = models.JSONField(default=dict, blank=True)
    sku = models.CharField(max_length=100, blank=True, default="")
    image_url = models.CharField(max_length=1000, null=True, blank=True)
    price_at_time_of_order = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        db_table = "order_items"
        ordering = ["product_name", "id"]
        indexes = [models.Index(fields=["variant_id"], name="order_items_variant_idx")]

    def __str__(self):
        return f"{self.quantity} x {self.product_name}"


class IdempotencyKey(models.Model):
    """``Idempotency-Key`` of a checkout, written in the transaction that writes the order.

    ``scope`` is the caller (user id, or a digest of a guest's email) so that two customers never
    share a key; the unique constraint makes concurrent duplicates safe: the second insert waits for the first
    transaction and then fails, and the request answers with the first one's order.
    """

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    # A plain value: the key is written first in the checkout's transaction, before the order.
    order_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "order_idempotency_keys"
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="order_idempotency_scope_key_uniq")]

    def __str__(self):
        return f"{self.scope}:{self.key}"


class DenormalizedProduct(models.Model):
    """The orders context's copy of a product (from ``product_events``)."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=255, blank=True, default="")
    sku = models.CharField(max_length=100, blank=True, default="")
    image_url = models.CharField(max_length=1000, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_deleted = models.BooleanField(default=False)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    # The catalogue's document version this copy was written from (null: from a document
    # published before versions existed); an older or equal version is ignored.
    source_version = models.BigIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "denormalized_products"

    def __str__(self):
        return self.name or str(self.id)


class DenormalizedUser(models.Model):
    """The orders context's copy of a user (from ``auth_events``)."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    profile_image = models.CharField(max_length=1000, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "denormalized_users"
        indexes = [models.Index(fields=["email"], name="denorm_users_email_idx")]

    def __str__(self):
        return self.email or str(self.id)
