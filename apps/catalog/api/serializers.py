"""Wire shapes of the catalogue (camelCase) — inputs validate, outputs shape; services decide."""

from rest_framework import serializers

from apps.catalog.models import (
    Category,
    Product,
    ProductCategory,
    ProductImage,
    StockMovement,
    StockMovementType,
    Variant,
)
from apps.catalog.services import MAX_STOCK
from ecommerce.fields import StrictCharField, StrictDecimalField, StrictIntegerField, StrictSlugField, StrictUUIDField
from ecommerce.validation import ImageURLField

MONEY = {"max_digits": 12, "decimal_places": 2}


def _money(**kwargs):
    return StrictDecimalField(**MONEY, min_value=0, **kwargs)


class AttributesField(serializers.JSONField):
    """A flat JSON object of short keys and scalar values: ``{"color": "red", "size": "M"}``."""

    default_error_messages = {"invalid_attributes": "Must be a JSON object of at most 50 scalar values."}

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if data is None:
            return {}
        if not isinstance(data, dict) or len(data) > 50:
            self.fail("invalid_attributes")
        for key, value in data.items():
            if not isinstance(key, str) or not key.strip() or len(key) > 100 or ":" in key:
                raise serializers.ValidationError("Attribute names are 1-100 characters, without ':'.")
            if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > 200):
                raise serializers.ValidationError(f"Attribute '{key}' must be a scalar of at most 200 characters.")
            if not _storable(key) or (isinstance(value, str) and not _storable(value)):
                # PostgreSQL refuses NUL in text and JSON, and a lone surrogate cannot be encoded
                # back out: either would turn every later read of the product into a 500.
                raise serializers.ValidationError("Attributes cannot contain null or surrogate characters.")
        return data


def _storable(text):
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


# --- Inputs ------------------------------------------------------------------------------------


class VariantInput(serializers.Serializer):
    attributes = AttributesField(required=False, default=dict)
    price = _money()
    costPrice = _money(source="cost_price", required=False, allow_null=True)  # noqa: N815
    lowStockThreshold = StrictIntegerField(  # noqa: N815
        source="low_stock_threshold", required=False, allow_null=True, min_value=0, max_value=MAX_STOCK
    )
    initialStockQuantity = StrictIntegerField(  # noqa: N815
        source="initial_stock_quantity", required=False, default=0, min_value=0, max_value=MAX_STOCK
    )


class VariantUpdateInput(serializers.Serializer):
    attributes = AttributesField(required=False)
    price = _money(required=False)
    costPrice = _money(source="cost_price", required=False, allow_null=True)  # noqa: N815
    lowStockThreshold = StrictIntegerField(  # noqa: N815
        source="low_stock_threshold", required=False, allow_null=True, min_value=0, max_value=MAX_STOCK
    )


class ImageInput(serializers.Serializer):
    imageUrl = ImageURLField(source="image_url", max_length=1000)  # noqa: N815
    altText = StrictCharField(  # noqa: N815
        source="alt_text", max_length=500, required=False, allow_null=True, allow_blank=True
    )
    isPrimary = serializers.BooleanField(source="is_primary", required=False, default=False)  # noqa: N815
    order = StrictIntegerField(required=False, default=0, min_value=0, max_value=100_000)


class ProductInput(serializers.Serializer):
    sku = StrictCharField(max_length=100)
    name = StrictCharField(max_length=255)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=20_000)
    isActive = serializers.BooleanField(source="is_active", required=False, default=True)  # noqa: N815
    categoryIds = serializers.ListField(  # noqa: N815
        source="category_ids", child=StrictUUIDField(), required=False, default=list, max_length=50
    )
    categorySlugs = serializers.ListField(  # noqa: N815
        source="category_slugs",
        child=StrictCharField(max_length=200),
        required=False,
        default=list,
        max_length=50,
    )
    variants = serializers.ListField(child=VariantInput(), required=False, default=list, max_length=200)
    images = serializers.ListField(child=ImageInput(), required=False, default=list, max_length=50)


class ProductUpdateInput(serializers.Serializer):
    sku = StrictCharField(max_length=100, required=False)
    name = StrictCharField(max_length=255, required=False)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=20_000)
    isActive = serializers.BooleanField(source="is_active", required=False)  # noqa: N815


class CategoryIdsInput(serializers.Serializer):
    categoryIds = serializers.ListField(  # noqa: N815
        source="category_ids", child=StrictCharField(max_length=64), allow_empty=False, max_length=100
    )


class ImageIdsInput(serializers.Serializer):
    imageIds = serializers.ListField(  # noqa: N815
        source="image_ids", child=StrictCharField(max_length=64), allow_empty=False, max_length=100
    )


class CategoryInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    slug = StrictSlugField(max_length=200)
    parentId = StrictUUIDField(source="parent_id", required=False, allow_null=True)  # noqa: N815
    parentSlug = StrictSlugField(source="parent_slug", required=False, allow_null=True)  # noqa: N815
    imageUrl = ImageURLField(source="image_url", max_length=1000, required=False, allow_null=True)  # noqa: N815


class CategoryUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=200, required=False)
    slug = StrictSlugField(max_length=200, required=False)
    parentId = StrictUUIDField(source="parent_id", required=False, allow_null=True)  # noqa: N815
    imageUrl = ImageURLField(  # noqa: N815
        source="image_url", max_length=1000, required=False, allow_null=True, allow_blank=True
    )


class StockAdjustInput(serializers.Serializer):
    changeQuantity = StrictIntegerField(  # noqa: N815
        source="change_quantity", min_value=-MAX_STOCK, max_value=MAX_STOCK
    )
    type = serializers.ChoiceField(choices=StockMovementType.choices)
    reason = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=500)
    relatedOrderId = StrictUUIDField(source="related_order_id", required=False, allow_null=True)  # noqa: N815

    def validate_changeQuantity(self, value):  # noqa: N802
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


# --- Outputs -----------------------------------------------------------------------------------


class VariantSerializer(serializers.ModelSerializer):
    productId = serializers.UUIDField(source="product_id", read_only=True)  # noqa: N815
    price = serializers.DecimalField(**MONEY)
    costPrice = serializers.DecimalField(source="cost_price", **MONEY, allow_null=True)  # noqa: N815
    stockQuantity = serializers.IntegerField(source="stock_quantity")  # noqa: N815
    lowStockThreshold = serializers.IntegerField(source="low_stock_threshold", allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815

    class Meta:
        model = Variant
        fields = [
            "id", "productId", "attributes", "price", "costPrice", "stockQuantity", "lowStockThreshold",
            "createdAt", "updatedAt",
        ]  # fmt: skip


class ImageSerializer(serializers.ModelSerializer):
    productId = serializers.UUIDField(source="product_id", read_only=True)  # noqa: N815
    imageUrl = serializers.CharField(source="image_url")  # noqa: N815
    altText = serializers.CharField(source="alt_text", allow_null=True)  # noqa: N815
    isPrimary = serializers.BooleanField(source="is_primary")  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815

    class Meta:
        model = ProductImage
        fields = ["id", "productId", "imageUrl", "altText", "isPrimary", "order", "createdAt"]


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class CategoryRowSerializer(serializers.ModelSerializer):
    parentId = serializers.UUIDField(source="parent_id", allow_null=True)  # noqa: N815
    imageUrl = serializers.CharField(source="image_url", allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parentId", "imageUrl", "createdAt", "updatedAt"]


class ProductCategoryListSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer()

    class Meta:
        model = ProductCategory
        fields = ["category"]


class ProductCategoryDetailSerializer(serializers.ModelSerializer):
    productId = serializers.UUIDField(source="product_id")  # noqa: N815
    categoryId = serializers.UUIDField(source="category_id")  # noqa: N815
    category = CategoryRowSerializer()

    class Meta:
        model = ProductCategory
        fields = ["productId", "categoryId", "category"]


class ProductListSerializer(serializers.ModelSerializer):
    """ProductList item: categories as ``[{category: {id, name, slug}}]``."""

    isActive = serializers.BooleanField(source="is_active")  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815
    variants = VariantSerializer(many=True)
    categories = ProductCategoryListSerializer(source="product_categories", many=True)
    images = ImageSerializer(many=True)

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "description", "isActive", "createdAt", "updatedAt", "variants", "categories",
            "images",
        ]  # fmt: skip


class ProductDetailSerializer(ProductListSerializer):
    """ProductDetail: categories as ``[{productId, categoryId, category: {... full row}}]``."""

    categories = ProductCategoryDetailSerializer(source="product_categories", many=True)


class StockMovementSerializer(serializers.ModelSerializer):
    variantId = serializers.UUIDField(source="variant_id")  # noqa: N815
    changeQuantity = serializers.IntegerField(source="change_quantity")  # noqa: N815
    relatedOrderId = serializers.UUIDField(source="related_order_id", allow_null=True)  # noqa: N815

    class Meta:
        model = StockMovement
        fields = ["id", "variantId", "changeQuantity", "type", "timestamp", "reason", "relatedOrderId"]


class CategorySerializer(CategoryRowSerializer):
    """A category with its counts (rows annotated by ``selectors.categories_with_counts``)."""

    isLeaf = serializers.SerializerMethodField()  # noqa: N815
    productCount = serializers.SerializerMethodField()  # noqa: N815
    subCategoryCount = serializers.SerializerMethodField()  # noqa: N815

    class Meta(CategoryRowSerializer.Meta):
        fields = [*CategoryRowSerializer.Meta.fields, "isLeaf", "productCount", "subCategoryCount"]

    def get_isLeaf(self, obj) -> bool:  # noqa: N802
        return self.get_subCategoryCount(obj) == 0

    def get_productCount(self, obj) -> int:  # noqa: N802
        return getattr(obj, "product_count", 0) or 0

    def get_subCategoryCount(self, obj) -> int:  # noqa: N802
        return getattr(obj, "sub_category_count", 0) or 0


# --- Response documents (OpenAPI only) ---------------------------------------------------------


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class CreatedProductSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sku = serializers.CharField()


class BulkProductsResponse(MessageSerializer):
    createdProducts = CreatedProductSerializer(many=True)  # noqa: N815


class BulkCategoriesResponse(MessageSerializer):
    createdCategories = CategorySerializer(many=True)  # noqa: N815


class StockAdjustResponse(MessageSerializer):
    movement = StockMovementSerializer()
    newStockQuantity = serializers.IntegerField()  # noqa: N815
