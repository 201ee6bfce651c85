"""The bare-Django floor of ``GET /products``: the same SQL, the same JSON, nothing else.

The product list (DRF view → ``filtered_products`` → prefetches → ``ProductListSerializer`` →
orjson renderer) is compared with this plain Django function view that compiles the very same
querysets (count, page, then variants / category links / images of the page, as the list's
prefetches do), executes their SQL on a raw cursor, builds the same dicts by hand and dumps them
with orjson. No DRF, no serializer, no model instances: what is left is the database round trips
and the JSON encoding, the least any implementation of the endpoint has to pay. The benchmark
prints the list's throughput as a fraction of this one.
"""

import math

import orjson
from django.conf import settings
from django.db import connections
from django.http import HttpResponse

from apps.catalog.api.filters import filtered_products
from apps.catalog.models import ProductCategory, ProductImage, Variant
from ecommerce.db import alias_for
from ecommerce.errors import BadRequest
from ecommerce.pagination import parse_positive_int

PRODUCT_COLUMNS = ("id", "sku", "name", "description", "is_active", "created_at", "updated_at")
VARIANT_COLUMNS = (
    "id", "product_id", "attributes", "price", "cost_price", "stock_quantity", "low_stock_threshold",
    "created_at", "updated_at",
)  # fmt: skip
IMAGE_COLUMNS = ("id", "product_id", "image_url", "alt_text", "is_primary", "order", "created_at")
LINK_COLUMNS = ("product_id", "category__id", "category__name", "category__slug")
JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _rows(cursor, queryset):
    sql, params = queryset.query.sql_with_params()
    cursor.execute(sql, params)
    return cursor.fetchall()


def _money(value):
    return None if value is None else f"{value:.2f}"


def products(request):
    alias = alias_for("catalog")
    try:
        limit = parse_positive_int(
            request.GET.get("limit"), "limit", settings.REST_FRAMEWORK["PAGE_SIZE"], settings.MAX_PAGE_SIZE
        )
        page = parse_positive_int(request.GET.get("page"), "page", 1, 10**7)
        queryset = filtered_products(request.GET)
    except BadRequest as exc:
        return HttpResponse(orjson.dumps({"message": str(exc.detail)}), status=400, content_type="application/json")
    data = []
    with connections[alias].cursor() as cursor:
        total = queryset.count()  # the list's own count query
        page_qs = queryset.values_list(*PRODUCT_COLUMNS)[(page - 1) * limit : page * limit]
        rows = _rows(cursor, page_qs) if total else []
        ids = [row[0] for row in rows]
        variants, links, images = {}, {}, {}
        if ids:
            variant_qs = Variant.objects.filter(product_id__in=ids).order_by("created_at", "id")
            for v in _rows(cursor, variant_qs.values_list(*VARIANT_COLUMNS)):
                variants.setdefault(v[1], []).append(
                    {
                        "id": v[0],
                        "productId": v[1],
                        "attributes": orjson.Fragment(v[2]) if isinstance(v[2], str) else v[2],
                        "price": _money(v[3]),
                        "costPrice": _money(v[4]),
                        "stockQuantity": v[5],
                        "lowStockThreshold": v[6],
                        "createdAt": v[7],
                        "updatedAt": v[8],
                    }
                )
            link_qs = ProductCategory.objects.filter(product_id__in=ids).order_by("category__name", "category_id")
            for product_id, cid, name, slug in _rows(cursor, link_qs.values_list(*LINK_COLUMNS)):
                links.setdefault(product_id, []).append({"category": {"id": cid, "name": name, "slug": slug}})
            image_qs = ProductImage.objects.filter(product_id__in=ids).order_by("order", "created_at", "id")
            for i in _rows(cursor, image_qs.values_list(*IMAGE_COLUMNS)):
                images.setdefault(i[1], []).append(
                    {
                        "id": i[0],
                        "productId": i[1],
                        "imageUrl": i[2],
                        "altText": i[3],
                        "isPrimary": i[4],
                        "order": i[5],
                        "createdAt": i[6],
                    }
                )
        for pid, sku, name, description, is_active, created_at, updated_at in rows:
            data.append(
                {
                    "id": pid,
                    "sku": sku,
                    "name": name,
                    "description": description,
                    "isActive": is_active,
                    "createdAt": created_at,
                    "updatedAt": updated_at,
                    "variants": variants.get(pid, []),
                    "categories": links.get(pid, []),
                    "images": images.get(pid, []),
                }
            )
    body = {
        "data": data,
        "pagination": {"total": total, "page": page, "limit": limit, "totalPages": math.ceil(total / limit)},
    }
    return HttpResponse(orjson.dumps(body, option=JSON_OPTIONS), content_type="application/json")
