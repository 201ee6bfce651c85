# ruff: noqa: N815, N802 - wire fields are camelCase by contract
"""Request validation and response shapes (camelCase on the wire, snake_case in the models)."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.orders.models import OrderStatus, PaymentMethod
from apps.orders.services import MAX_LINES, MAX_QUANTITY
from ecommerce.fields import StrictCharField, StrictEmailField, StrictIntegerField, StrictUUIDField

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ().\-]{4,30}$")


class LineInput(serializers.Serializer):
    # The shop also sends price, name, imageUrl, attributes: accepted and ignored.
    productId = StrictUUIDField()
    variantId = StrictUUIDField()
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


def _optional(max_length):
    return StrictCharField(max_length=max_length, required=False, allow_blank=True, allow_null=True)


class ShippingAddressInput(serializers.Serializer):
    # The shop's checkout labels first name, apartment and postal code optional and sends them
    # blank or not at all; the order stores every key, an empty optional one as null.
    country = StrictCharField(max_length=100)
    firstName = _optional(100)
    lastName = StrictCharField(max_length=100)
    address = StrictCharField(max_length=255)
    apartment = _optional(100)
    postalCode = _optional(20)
    city = StrictCharField(max_length=100)

    def to_representation(self, instance):
        return instance


ADDRESS_KEYS = ("country", "firstName", "lastName", "address", "apartment", "postalCode", "city")


class CheckoutInput(serializers.Serializer):
    items = LineInput(many=True, required=False, allow_empty=True, max_length=MAX_LINES)
    cartId = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=100)
    phone = StrictCharField(
        max_length=32,
        required=True,
        allow_blank=False,
        error_messages={
            "required": "A phone number is required for all orders.",
            "blank": "A phone number is required for all orders.",
        },
    )
    guestEmail = StrictEmailField(required=False, allow_null=True, allow_blank=True, max_length=254)
    guestName = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=200)
    shippingAddress = ShippingAddressInput(required=False, allow_null=True)
    paymentMethod = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        error_messages={"invalid_choice": "paymentMethod must be CREDIT_CARD or CASH_ON_DELIVERY."},
    )

    def validate_phone(self, value):
        digits = re.sub(r"\D", "", value)
        if not PHONE_RE.match(value) or not 6 <= len(digits) <= 15:
            raise serializers.ValidationError("Enter a valid phone number (6 to 15 digits, optional leading +).")
        return value

    def validate(self, attrs):
        items = attrs.get("items") or []
        cart_id = attrs.get("cartId") or None
        if items and cart_id:
            raise serializers.ValidationError({"cartId": ["Send either items or cartId, not both."]})
        if not items and not cart_id:
            raise serializers.ValidationError({"items": ["Order must contain at least one item."]})
        if not self.context.get("authenticated"):
            errors = {}
            if not attrs.get("guestEmail"):
                errors["guestEmail"] = ["An email address is required for all orders."]
            if not (attrs.get("guestName") or "").strip():
                errors["guestName"] = ["A name is required for guest orders."]
            if errors:
                raise serializers.ValidationError(errors)
        address = attrs.get("shippingAddress")
        if address is not None:
            # Every key present, in the contract's order; a blank or missing optional one is null.
            attrs["shippingAddress"] = {key: address.get(key) or None for key in ADDRESS_KEYS}
        return attrs


class GuestLookupInput(serializers.Serializer):
    orderId = StrictCharField(max_length=100, error_messages={"required": "Order ID and email are required."})
    email = StrictCharField(max_length=254, error_messages={"required": "Order ID and email are required."})


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=OrderStatus.choices,
        error_messages={"invalid_choice": f"status must be one of {', '.join(OrderStatus.values)}."},
    )


# --- responses ----------------------------------------------------------------------------------


def mask_email(email):
    if not email or "@" not in email:
        return None if not email else "***"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone):
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return None
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_name(name):
    return f"{name.strip()[:1]}***" if name and name.strip() else name


class OrderItemOutput(serializers.Serializer):
    id = serializers.UUIDField()
    orderId = serializers.UUIDField(source="order_id")
    productId = serializers.UUIDField(source="product_id")
    variantId = serializers.UUIDField(source="variant_id")
    productName = serializers.SerializerMethodField()
    variantAttributes = serializers.JSONField(source="variant_attributes")
    sku = serializers.SerializerMethodField()
    imageUrl = serializers.SerializerMethodField()
    priceAtTimeOfOrder = serializers.DecimalField(source="price_at_time_of_order", max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()

    # The line keeps what was sold; the product copy only fills what the line lacks.
    def _copy(self, item):
        return self.context.get("products", {}).get(item.product_id)

    def get_productName(self, item) -> str | None:
        copy = self._copy(item)
        return item.product_name or (copy.name if copy else "")

    def get_sku(self, item) -> str | None:
        copy = self._copy(item)
        return item.sku or (copy.sku if copy else "")

    def get_imageUrl(self, item) -> str | None:
        copy = self._copy(item)
        return item.image_url or (copy.image_url if copy else None)


class OrderOutput(serializers.Serializer):
    """The contract's EnrichedOrder. ``context``: ``users``/``products`` (from
    ``selectors.related_copies``) and ``full_access`` (a callable order → bool, default True)."""

    id = serializers.UUIDField()
    userId = serializers.UUIDField(source="user_id", allow_null=True)
    guestEmail = serializers.EmailField(source="guest_email", allow_null=True)
    guestName = serializers.CharField(source="guest_name", allow_null=True)
    phone = serializers.CharField()
    status = serializers.CharField()
    paymentMethod = serializers.CharField(source="payment_method")
    shippingCost = serializers.DecimalField(source="shipping_cost", max_digits=12, decimal_places=2)
    totalAmount = serializers.DecimalField(source="total_amount", max_digits=12, decimal_places=2)
    shippingAddress = serializers.JSONField(source="shipping_address", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    items = serializers.SerializerMethodField()
    customerName = serializers.SerializerMethodField()
    customerEmail = serializers.SerializerMethodField()
    customerAvatar = serializers.SerializerMethodField()

    def _user(self, order):
        return self.context.get("users", {}).get(order.user_id) if order.user_id else None

    @extend_schema_field(OrderItemOutput(many=True))
    def get_items(self, order):
        return OrderItemOutput(order.items.all(), many=True, context=self.context).data

    def get_customerName(self, order) -> str | None:
        user = self._user(order)
        return (user.name if user and user.name else None) or order.guest_name or "Guest"

    def get_customerEmail(self, order) -> str | None:
        user = self._user(order)
        return (user.email if user and user.email else None) or order.guest_email

    def get_customerAvatar(self, order) -> str | None:
        user = self._user(order)
        return user.profile_image if user else None

    def to_representation(self, order):
        data = super().to_representation(order)
        full_access = self.context.get("full_access")
        if full_access is not None and not full_access(order):
            mask_order(data)
        return data


def mask_order(data):
    """Hide an order's personal data (someone else's order, seen by its id): in place."""
    data["userId"] = None
    data["guestEmail"] = mask_email(data["guestEmail"])
    data["guestName"] = mask_name(data["guestName"])
    data["phone"] = mask_phone(data["phone"])
    data["shippingAddress"] = None
    data["customerName"] = mask_name(data["customerName"]) if data["customerName"] != "Guest" else "Guest"
    data["customerEmail"] = mask_email(data["customerEmail"])
    data["customerAvatar"] = None
    return data
