"""The product list's query string, validated: a bad value is a 400, never a 500.

``q`` (or ``name``, as the admin's stock page sends it), ``categorySlug`` (the category and its
descendants), ``isActive``, ``minPrice``/``maxPrice``/``inStock``/``attributes[k]=v`` (one
variant must satisfy all of these together), ``sortBy`` + ``sortOrder``.
"""

import re

from django.db.models import Exists, F, Min, OuterRef, Q, Subquery

from apps.catalog.models import ProductCategory, Variant
from apps.catalog.selectors import descendant_ids, product_queryset
from ecommerce.errors import BadRequest
from ecommerce.fields import ascii_decimal

SORT_FIELDS = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "name": "name",
    "sku": "sku",
    "price": "min_price",
}
ATTRIBUTE_PARAM = re.compile(r"^attributes\[([^\[\]]{1,100})\](\[\])?$")
ATTRIBUTE_KEY = re.compile(r"^[\w .\-]{1,100}$")


def _bool(params, name):
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise BadRequest(f"'{name}' must be true or false.", errors={name: ["Must be true or false."]})


def _price(params, name):
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = ascii_decimal(raw)
    if value is None or value < 0:
        raise BadRequest(f"'{name}' must be a non-negative number.", errors={name: ["Must be a non-negative number."]})
    return value


def _attributes(params):
    wanted = {}
    for key in params:
        match = ATTRIBUTE_PARAM.match(key)
        if not match:
            continue
        name = match.group(1)
        if not ATTRIBUTE_KEY.match(name) or "__" in name or name.isdigit():
            raise BadRequest(f"Invalid attribute name '{name}'.", errors={"attributes": ["Invalid attribute name."]})
        values = [v for v in params.getlist(key) if v != ""]
        if values:
            wanted.setdefault(name, []).extend(values)
    return wanted


def filtered_products(params):
    """The queryset for ``GET /products`` (not yet paginated)."""
    queryset = product_queryset()

    term = (params.get("q") or params.get("name") or "").strip()
    if len(term) > 200:
        raise BadRequest("'q' is too long (200 characters at most).")
    if term:
        queryset = queryset.filter(Q(name__icontains=term) | Q(sku__icontains=term) | Q(description__icontains=term))

    slug = (params.get("categorySlug") or "").strip()
    if slug:
        ids = descendant_ids(slug)
        if ids is None:
            return queryset.none()
        queryset = queryset.filter(
            Exists(ProductCategory.objects.filter(product_id=OuterRef("pk"), category_id__in=ids))
        )

    is_active = _bool(params, "isActive")
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)

    variant_filter = Q()
    min_price, max_price = _price(params, "minPrice"), _price(params, "maxPrice")
    if min_price is not None:
        variant_filter &= Q(price__gte=min_price)
    if max_price is not None:
        variant_filter &= Q(price__lte=max_price)
    if _bool(params, "inStock"):
        variant_filter &= Q(stock_quantity__gt=0)
    for name, values in _attributes(params).items():
        any_value = Q()
        for value in values:
            any_value |= Q(**{f"attributes__{name}__iexact": value})
        variant_filter &= any_value
    if variant_filter:
        queryset = queryset.filter(Exists(Variant.objects.filter(variant_filter, product_id=OuterRef("pk"))))

    sort_by = params.get("sortBy") or "createdAt"
    if sort_by not in SORT_FIELDS:
        raise BadRequest(
            f"Invalid sortBy '{sort_by}'. Allowed: {', '.join(SORT_FIELDS)}.",
            errors={"sortBy": [f"Must be one of: {', '.join(SORT_FIELDS)}."]},
        )
    sort_order = (params.get("sortOrder") or "desc").lower()
    if sort_order not in ("asc", "desc"):
        raise BadRequest("Invalid sortOrder. Allowed: asc, desc.", errors={"sortOrder": ["Must be asc or desc."]})
    field = SORT_FIELDS[sort_by]
    if field == "min_price":
        # MIN() over the product's variants (index product_id, price). Not ORDER BY price LIMIT 1:
        # the planner may walk the whole price index for that, once per product.
        cheapest = (
            Variant.objects.filter(product_id=OuterRef("pk"))
            .order_by()
            .values("product_id")
            .annotate(cheapest=Min("price"))
            .values("cheapest")
        )
        queryset = queryset.annotate(min_price=Subquery(cheapest))
    # NULLS LAST only for the one nullable key (a product without variants has no price): on the
    # NOT NULL columns it would stop PostgreSQL from reading the index in order (a sort of every row).
    nulls_last = True if field == "min_price" else None
    expression = F(field).asc(nulls_last=nulls_last) if sort_order == "asc" else F(field).desc(nulls_last=nulls_last)
    tiebreak = "id" if sort_order == "asc" else "-id"
    return queryset.order_by(expression, tiebreak)
