"""The product list's read path: columns as tuples, shaped into the wire JSON by hand.

``GET /products`` is the shop's busiest read. Going through model instances and
``ProductListSerializer`` costs, per page, an object for every product, variant, link and image
and a walk through DRF's fields for each: most of the request's CPU (bench/README.md). This module
runs the same queries (after the count: the page, then the page's variants, category links and
images, as the prefetches did) with ``values_list`` and builds the same dicts directly.
``ProductListSerializer`` stays the documented shape; ``tests/test_listing.py`` checks that both
produce the same JSON.
"""

from apps.catalog.events import PRODUCT_COLUMNS, iso, money, product_fields
from apps.catalog.models import ProductCategory, ProductImage, Variant

VARIANT_COLUMNS = (
    "id", "product_id", "attributes", "price", "cost_price", "stock_quantity", "low_stock_threshold",
    "created_at", "updated_at",
)  # fmt: skip
LINK_COLUMNS = ("product_id", "category_id", "category__name", "category__slug")
IMAGE_COLUMNS = ("id", "product_id", "image_url", "alt_text", "is_primary", "order", "created_at")


def product_list_page(queryset, offset, limit):
    """The list items of ``queryset[offset:offset + limit]`` (4 queries; none when empty)."""
    rows = list(queryset.prefetch_related(None).values_list(*PRODUCT_COLUMNS)[offset : offset + limit])
    if not rows:
        return []
    ids = [row[0] for row in rows]
    variants, links, images = {}, {}, {}
    variant_rows = Variant.objects.filter(product_id__in=ids).order_by("created_at", "id")
    for vid, pid, attributes, price, cost, stock, low, created, updated in variant_rows.values_list(*VARIANT_COLUMNS):
        variants.setdefault(pid, []).append(
            {
                "id": str(vid),
                "productId": str(pid),
                "attributes": attributes,
                "price": money(price),
                "costPrice": money(cost),
                "stockQuantity": stock,
                "lowStockThreshold": low,
                "createdAt": iso(created),
                "updatedAt": iso(updated),
            }
        )
    link_rows = ProductCategory.objects.filter(product_id__in=ids).order_by("category__name", "category_id")
    for pid, cid, name, slug in link_rows.values_list(*LINK_COLUMNS):
        links.setdefault(pid, []).append({"category": {"id": str(cid), "name": name, "slug": slug}})
    image_rows = ProductImage.objects.filter(product_id__in=ids).order_by("order", "created_at", "id")
    for iid, pid, url, alt, primary, order, created in image_rows.values_list(*IMAGE_COLUMNS):
        images.setdefault(pid, []).append(
            {
                "id": str(iid),
                "productId": str(pid),
                "imageUrl": url,
                "altText": alt,
                "isPrimary": primary,
                "order": order,
                "createdAt": iso(created),
            }
        )
    return [
        {
            **product_fields(row),
            "variants": variants.get(row[0], []),
            "categories": links.get(row[0], []),
            "images": images.get(row[0], []),
        }
        for row in rows
    ]
