"""HTTP edge of the catalogue: parse, call a service or a selector, shape. No business rules here."""

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.auth.permissions import Has, PermissionsByMethod
from apps.catalog import cache as catalog_cache
from apps.catalog import selectors, services
from apps.catalog.api import serializers as s
from apps.catalog.api.filters import filtered_products
from apps.catalog.listing import product_list_page
from apps.catalog.models import Variant
from ecommerce.errors import BadRequest, NotFound
from ecommerce.pagination import envelope, page_params, parse_positive_int
from ecommerce.validation import validated

MAX_BULK = 500
HISTORY_LIMIT = 500


def parse_id(value, message):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(message)


def as_list(data, key):
    """A bare JSON array, or ``{key: [...]}`` (both shapes are sent by clients)."""
    if isinstance(data, dict) and isinstance(data.get(key), list):
        data = data[key]
    if not isinstance(data, list):
        raise BadRequest(f"Expected a JSON array (or an object with '{key}').")
    if not data:
        raise BadRequest("The list must not be empty.")
    if len(data) > MAX_BULK:
        raise BadRequest(f"At most {MAX_BULK} items per request.")
    return data


class CatalogView(PermissionsByMethod, APIView):
    """Reads are public; writes list their permission in ``permissions_by_method``."""


def _detail_or_none(product_id):
    product = selectors.get_product(product_id)
    return dict(s.ProductDetailSerializer(product).data) if product is not None else None


def product_detail(product_id):
    """The product's detail JSON, from the read cache (``apps/catalog/cache.py``) when it is there."""
    data = catalog_cache.cached(catalog_cache.detail_key(product_id), lambda: _detail_or_none(product_id))
    if data is None:
        raise NotFound("Product not found")
    return data


# --- Products ----------------------------------------------------------------------------------

LIST_PARAMETERS = [
    OpenApiParameter("page", int),
    OpenApiParameter("limit", int),
    OpenApiParameter("q", str, description="name, sku or description contains (also accepted as `name`)"),
    OpenApiParameter("categorySlug", str, description="the category and its descendants"),
    OpenApiParameter("isActive", bool),
    OpenApiParameter("minPrice", str),
    OpenApiParameter("maxPrice", str),
    OpenApiParameter("inStock", bool),
    OpenApiParameter("attributes[color]", str, description="repeatable, any attribute name"),
    OpenApiParameter("sortBy", str, enum=["createdAt", "updatedAt", "name", "sku", "price"]),
    OpenApiParameter("sortOrder", str, enum=["asc", "desc"]),
]


class ProductListView(CatalogView):
    permissions_by_method = {"POST": [Has("create:product")]}

    @extend_schema(parameters=LIST_PARAMETERS, responses=s.ProductListSerializer(many=True))
    def get(self, request):
        queryset = filtered_products(request.query_params)
        page, limit = page_params(request)
        total = queryset.count()
        # values() rows shaped by hand: the same JSON as ProductListSerializer (apps/catalog/listing.py)
        rows = product_list_page(queryset, (page - 1) * limit, limit) if total else []
        return Response(envelope(rows, total, page, limit))

    @extend_schema(request=s.ProductInput, responses={201: s.ProductDetailSerializer})
    def post(self, request):
        product = services.create_product(validated(s.ProductInput, request.data))
        return Response(product_detail(product.id), status=status.HTTP_201_CREATED)


class ProductBulkView(CatalogView):
    permissions_by_method = {"POST": [Has("create:product")]}

    @extend_schema(request=s.ProductInput(many=True), responses={201: s.BulkProductsResponse})
    def post(self, request):
        items = validated(s.ProductInput, as_list(request.data, "products"), many=True)
        products = services.create_products(items)
        return Response(
            {
                "message": f"Successfully created {len(products)} products.",
                "createdProducts": [{"id": str(p.id), "sku": p.sku} for p in products],
            },
            status=status.HTTP_201_CREATED,
        )


class ProductByIdView(CatalogView):
    @extend_schema(responses=s.ProductDetailSerializer)
    def get(self, request, product_id):
        return Response(product_detail(parse_id(product_id, "Product not found")))


class ProductBySkuView(CatalogView):
    @extend_schema(responses=s.ProductDetailSerializer)
    def get(self, request, sku):
        product = selectors.get_product_by_sku(sku)
        if product is None:
            raise NotFound("Product not found")
        return Response(s.ProductDetailSerializer(product).data)


class ProductView(CatalogView):
    permissions_by_method = {
        "PUT": [Has("update:product")],
        "PATCH": [Has("update:product")],
        "DELETE": [Has("delete:product")],
    }

    @extend_schema(request=s.ProductUpdateInput, responses=s.ProductDetailSerializer)
    def put(self, request, product_id):
        data = validated(s.ProductUpdateInput, request.data, partial=True)
        product = services.update_product(product_id, data)
        return Response(product_detail(product.id))

    patch = put

    @extend_schema(responses={204: None})
    def delete(self, request, product_id):
        services.delete_product(product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductCategoriesView(CatalogView):
    permissions_by_method = {"POST": [Has("update:product")], "DELETE": [Has("update:product")]}

    @extend_schema(
        operation_id="products_attach_categories", request=s.CategoryIdsInput, responses={201: s.MessageSerializer}
    )
    def post(self, request, product_id):
        data = validated(s.CategoryIdsInput, request.data)
        product = services.attach_categories(product_id, data["category_ids"])
        return Response({"message": f"Added categories to product {product.id}."}, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="products_detach_categories", request=s.CategoryIdsInput, responses=s.MessageSerializer)
    def delete(self, request, product_id):
        data = validated(s.CategoryIdsInput, request.data)
        removed = services.detach_categories(product_id, data["category_ids"])
        return Response({"message": f"Removed {removed} categories from product {product_id}."})


class ProductImagesView(CatalogView):
    permissions_by_method = {"POST": [Has("update:product")], "DELETE": [Has("update:product")]}

    @extend_schema(request=s.ImageInput(many=True), responses={201: s.MessageSerializer})
    def post(self, request, product_id):
        images = validated(s.ImageInput, as_list(request.data, "images"), many=True)
        services.add_images(product_id, images)
        return Response({"message": f"Added images to product {product_id}."}, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ImageIdsInput, responses=s.MessageSerializer)
    def delete(self, request, product_id):
        data = validated(s.ImageIdsInput, request.data)
        removed = services.remove_images(product_id, data["image_ids"])
        return Response({"message": f"Removed {removed} images from product {product_id}."})


# --- Variants ----------------------------------------------------------------------------------


class VariantListView(CatalogView):
    permissions_by_method = {"POST": [Has("update:product")]}

    @extend_schema(responses=s.VariantSerializer(many=True))
    def get(self, request, product_id):
        pid = parse_id(product_id, "Product not found")
        variants = list(Variant.objects.filter(product_id=pid).order_by("created_at", "id"))
        if not variants and not selectors.product_exists(pid):
            raise NotFound("Product not found")
        return Response(s.VariantSerializer(variants, many=True).data)

    @extend_schema(request=s.VariantInput, responses={201: s.VariantSerializer})
    def post(self, request, product_id):
        variant = services.create_variant(product_id, validated(s.VariantInput, request.data))
        return Response(s.VariantSerializer(variant).data, status=status.HTTP_201_CREATED)


class VariantView(CatalogView):
    permissions_by_method = {
        "PUT": [Has("update:product")],
        "PATCH": [Has("update:product")],
        "DELETE": [Has("update:product")],
    }

    @extend_schema(responses=s.VariantSerializer)
    def get(self, request, product_id, variant_id):
        pid = parse_id(product_id, "Product not found")
        vid = parse_id(variant_id, "Variant not found")
        variant = Variant.objects.filter(id=vid, product_id=pid).first()
        if variant is None:
            raise NotFound("Product not found" if not selectors.product_exists(pid) else "Variant not found")
        return Response(s.VariantSerializer(variant).data)

    @extend_schema(request=s.VariantUpdateInput, responses=s.VariantSerializer)
    def put(self, request, product_id, variant_id):
        data = validated(s.VariantUpdateInput, request.data, partial=True)
        variant = services.update_variant(product_id, variant_id, data)
        return Response(s.VariantSerializer(variant).data)

    patch = put

    @extend_schema(responses={204: None})
    def delete(self, request, product_id, variant_id):
        services.delete_variant(product_id, variant_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VariantAliasView(VariantView):
    """``/products/variants/<variantId>``: the original's alias of the variant routes, without the
    product in the path."""

    def _product_of(self, variant_id):
        vid = parse_id(variant_id, "Variant not found")
        product_id = Variant.objects.filter(id=vid).values_list("product_id", flat=True).first()
        if product_id is None:
            raise NotFound("Variant not found")
        return product_id

    @extend_schema(operation_id="products_variants_alias_retrieve", responses=s.VariantSerializer)
    def get(self, request, variant_id):
        return super().get(request, self._product_of(variant_id), variant_id)

    @extend_schema(
        operation_id="products_variants_alias_update", request=s.VariantUpdateInput, responses=s.VariantSerializer
    )
    def put(self, request, variant_id):
        return super().put(request, self._product_of(variant_id), variant_id)

    @extend_schema(operation_id="products_variants_alias_partial_update", request=s.VariantUpdateInput,
                   responses=s.VariantSerializer)  # fmt: skip
    def patch(self, request, variant_id):
        return super().put(request, self._product_of(variant_id), variant_id)

    @extend_schema(operation_id="products_variants_alias_destroy", responses={204: None})
    def delete(self, request, variant_id):
        return super().delete(request, self._product_of(variant_id), variant_id)


# --- Stock -------------------------------------------------------------------------------------


class StockAdjustView(CatalogView):
    permissions_by_method = {"POST": [Has("adjust:stock")]}

    @extend_schema(request=s.StockAdjustInput, responses={201: s.StockAdjustResponse})
    def post(self, request, variant_id):
        vid = parse_id(variant_id, "Variant not found")
        data = validated(s.StockAdjustInput, request.data)
        movement, new_quantity = services.adjust_stock(
            vid,
            data["change_quantity"],
            data["type"],
            reason=data.get("reason") or "",
            related_order_id=data.get("related_order_id"),
        )
        return Response(
            {
                "message": "Stock adjusted successfully.",
                "movement": s.StockMovementSerializer(movement).data,
                "newStockQuantity": new_quantity,
            },
            status=status.HTTP_201_CREATED,
        )


class StockHistoryView(CatalogView):
    permissions_by_method = {"GET": [Has("adjust:stock")]}

    @extend_schema(parameters=[OpenApiParameter("limit", int)], responses=s.StockMovementSerializer(many=True))
    def get(self, request, variant_id):
        vid = parse_id(variant_id, "Variant not found")
        limit = parse_positive_int(request.query_params.get("limit"), "limit", HISTORY_LIMIT, HISTORY_LIMIT)
        if not Variant.objects.filter(id=vid).exists():
            raise NotFound("Variant not found")
        return Response(s.StockMovementSerializer(selectors.stock_history(vid, limit), many=True).data)


# --- Categories --------------------------------------------------------------------------------


def category_with_relations(category):
    data = s.CategorySerializer(category).data
    parent = None
    if category.parent_id:
        parent = selectors.categories_with_counts().filter(id=category.parent_id).first()
    data["parent"] = s.CategorySerializer(parent).data if parent else None
    children = selectors.categories_with_counts().filter(parent_id=category.id)
    data["children"] = s.CategorySerializer(children, many=True).data
    return data


def category_out(category_id):
    return s.CategorySerializer(selectors.categories_with_counts().get(id=category_id)).data


class CategoryListView(CatalogView):
    permissions_by_method = {"POST": [Has("create:category")]}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["tree"],
                description="tree: roots with nested `children`, present only on categories that have some",
            )
        ],
        responses=s.CategorySerializer(many=True),
    )
    def get(self, request):
        rows = catalog_cache.cached(
            catalog_cache.CATEGORIES_KEY,
            lambda: [dict(row) for row in s.CategorySerializer(selectors.categories_with_counts(), many=True).data],
        )
        if request.query_params.get("format") != "tree":
            return Response(rows)
        # As the original: a node carries `children` only when it has some (no [] on leaves).
        nodes = {row["id"]: dict(row) for row in rows}
        roots = []
        for node in nodes.values():
            parent = nodes.get(node["parentId"]) if node["parentId"] else None
            (parent.setdefault("children", []) if parent else roots).append(node)
        return Response(roots)

    @extend_schema(request=s.CategoryInput, responses={201: s.CategorySerializer})
    def post(self, request):
        category = services.create_category(validated(s.CategoryInput, request.data))
        return Response(category_out(category.id), status=status.HTTP_201_CREATED)


class CategoryBulkView(CatalogView):
    permissions_by_method = {"POST": [Has("create:category")]}

    @extend_schema(request=s.CategoryInput(many=True), responses={201: s.BulkCategoriesResponse})
    def post(self, request):
        items = validated(s.CategoryInput, as_list(request.data, "categories"), many=True)
        created = services.create_categories(items)
        rows = selectors.categories_with_counts().filter(id__in=[c.id for c in created])
        by_id = {row.id: row for row in rows}
        return Response(
            {
                "message": f"Successfully created {len(created)} categories.",
                "createdCategories": s.CategorySerializer([by_id[c.id] for c in created], many=True).data,
            },
            status=status.HTTP_201_CREATED,
        )


class CategoryByIdView(CatalogView):
    @extend_schema(responses=s.CategorySerializer)
    def get(self, request, category_id):
        cid = parse_id(category_id, "Category not found")
        category = selectors.categories_with_counts().filter(id=cid).first()
        if category is None:
            raise NotFound("Category not found")
        return Response(category_with_relations(category))


class CategoryBySlugView(CatalogView):
    @extend_schema(responses=s.CategorySerializer)
    def get(self, request, slug):
        category = selectors.categories_with_counts().filter(slug=slug).first()
        if category is None:
            raise NotFound("Category not found")
        return Response(category_with_relations(category))


class CategoryView(CatalogView):
    permissions_by_method = {
        "PUT": [Has("update:category")],
        "PATCH": [Has("update:category")],
        "DELETE": [Has("delete:category")],
    }

    @extend_schema(request=s.CategoryUpdateInput, responses=s.CategorySerializer)
    def put(self, request, category_id):
        data = validated(s.CategoryUpdateInput, request.data, partial=True)
        category = services.update_category(category_id, data)
        return Response(category_out(category.id))

    patch = put

    @extend_schema(responses={204: None})
    def delete(self, request, category_id):
        services.delete_category(category_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
