# ruff: noqa: N815 - camelCase field names are the wire format
"""Request validation for the cart routes (camelCase on the wire) and the response's shape for
the OpenAPI schema. Fields a client sends that the server does not use (``price``, ``name``,
``imageUrl``, ``attributes``) are accepted and ignored: the catalogue is the only source."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.cart.services import max_quantity
from ecommerce.fields import StrictCharField, StrictUUIDField

_INTEGER = re.compile(r"^[+-]?[0-9]{1,9}$")


@extend_schema_field(OpenApiTypes.INT)
class QuantityField(serializers.Field):
    """A whole number of units: a JSON integer (or a string of digits), ``min_value``..max."""

    default_error_messages = {
        "invalid": "A whole number is required.",
        "min_value": "Ensure this value is greater than or equal to {min_value}.",
        "max_value": "Ensure this value is less than or equal to {max_value}.",
    }

    def __init__(self, *, min_value, **kwargs):
        self.min_value = min_value
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            value = data
        elif isinstance(data, str) and _INTEGER.match(data.strip()):
            value = int(data.strip())
        else:
            self.fail("invalid")
        if value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        if value > max_quantity():
            self.fail("max_value", max_value=max_quantity())
        return value

    def to_representation(self, value):
        return value


class AddItemInput(serializers.Serializer):
    productId = StrictUUIDField(required=False, allow_null=True)
    variantId = StrictUUIDField()
    quantity = QuantityField(min_value=1)


class UpdateItemInput(serializers.Serializer):
    quantity = QuantityField(min_value=0, help_text="0 removes the line.")


class AssociateInput(serializers.Serializer):
    cartId = StrictUUIDField()
    userId = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=64)


# --- response shape (documentation only: services build the dict) ------------------------------


class CartItemSchema(serializers.Serializer):
    itemId = serializers.UUIDField()
    productId = serializers.UUIDField()
    variantId = serializers.UUIDField()
    quantity = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Current catalogue price.")
    name = serializers.CharField()
    imageUrl = serializers.CharField(allow_null=True)
    attributes = serializers.DictField()
    sku = serializers.CharField(allow_null=True)
    addedAt = serializers.DateTimeField()
    lineTotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    priceChanged = serializers.BooleanField(help_text="The price differs from the one when the line was added.")
    previousPrice = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    availableQuantity = serializers.IntegerField()
    stockIssue = serializers.ChoiceField(choices=["OUT_OF_STOCK", "INSUFFICIENT_STOCK", "UNAVAILABLE"], allow_null=True)


class CartSchema(serializers.Serializer):
    id = serializers.UUIDField()
    userId = serializers.UUIDField(allow_null=True)
    items = CartItemSchema(many=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    itemCount = serializers.IntegerField(help_text="Units in the cart (sum of the quantities).")
    hasIssues = serializers.BooleanField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
