"""``GET /search/products`` query parameters, validated into a ``SearchQuery``.

Every bad value is a 400 with the field named; nothing unchecked reaches a backend.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from ecommerce.errors import BadRequest
from ecommerce.fields import ascii_decimal
from ecommerce.pagination import parse_positive_int

DEFAULT_LIMIT = 24
# Deepest result reachable by paging (Elasticsearch's index.max_result_window); both backends.
MAX_RESULT_WINDOW = 10_000
MAX_QUERY_LENGTH = 200
MAX_ATTRIBUTE_FILTERS = 20
SORT_FIELDS = ("_score", "price", "createdAt", "name")
SORT_ORDERS = ("asc", "desc")
MAX_PRICE = Decimal("9999999999.99")

# The five price buckets of the facet, with the keys Elasticsearch gives range buckets.
PRICE_RANGES = [
    (None, Decimal("50")),
    (Decimal("50"), Decimal("100")),
    (Decimal("100"), Decimal("200")),
    (Decimal("200"), Decimal("500")),
    (Decimal("500"), None),
]


def range_key(low, high):
    def part(value):
        return "*" if value is None else f"{float(value)}"

    return f"{part(low)}-{part(high)}"


def price_bucket(low, high, count):
    bucket = {"key": range_key(low, high)}
    if low is not None:
        bucket["from"] = float(low)
    if high is not None:
        bucket["to"] = float(high)
    bucket["count"] = count
    return bucket


@dataclass
class SearchQuery:
    q: str = ""
    category: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    # {"color": ["red", "blue"], "size": ["M"]}: values OR'd within a name, names AND'd.
    attributes: dict = field(default_factory=dict)
    page: int = 1
    limit: int = DEFAULT_LIMIT
    sort_by: str = "_score"
    sort_order: str = "desc"

    @property
    def offset(self):
        return (self.page - 1) * self.limit

    def attribute_flats(self):
        """[["color:red", "color:blue"], ["size:M"]]: one OR-group per attribute name."""
        return [[f"{name}:{value}" for value in values] for name, values in sorted(self.attributes.items())]


def _bad(name, message):
    raise BadRequest(f"Invalid query parameter '{name}': {message}", errors={name: [message]})


def _single(params, name):
    values = params.getlist(name)
    if len(values) > 1:
        _bad(name, "Give it once.")
    return values[0] if values else None


def _int(params, name, default, low, high):
    raw = _single(params, name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\d{1,9}", raw.strip()):
        _bad(name, f"Must be an integer between {low} and {high}.")
    value = int(raw)
    if not low <= value <= high:
        _bad(name, f"Must be an integer between {low} and {high}.")
    return value


def _price(params, name):
    raw = _single(params, name)
    if raw in (None, ""):
        return None
    value = ascii_decimal(raw)
    if value is None:
        _bad(name, "Must be a number.")
    if value < 0 or value > MAX_PRICE:
        _bad(name, "Must be a number between 0 and 9999999999.99.")
    return value


def _bool(params, name):
    raw = _single(params, name)
    if raw in (None, ""):
        return False
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    _bad(name, "Must be true or false.")


_ATTRIBUTE_KEY = re.compile(r"^attributes\[([^\[\]]+)\](\[\])?$")


def _attributes(params):
    attributes = {}
    for key in params.keys():
        if key != "attributes" and not key.startswith("attributes["):
            continue
        match = _ATTRIBUTE_KEY.match(key)
        if not match:
            _bad("attributes", "Must be a mapping: attributes[name]=value or attributes[name][]=value.")
        name = match.group(1).strip()
        values = [v.strip() for v in params.getlist(key) if v.strip()]
        if not name or len(name) > 100 or any(len(v) > 100 for v in values):
            _bad("attributes", "Names and values are at most 100 characters.")
        if values:
            bucket = attributes.setdefault(name, [])
            bucket.extend(v for v in values if v not in bucket)
    if len(attributes) > MAX_ATTRIBUTE_FILTERS or sum(map(len, attributes.values())) > 100:
        _bad("attributes", "Too many attribute filters.")
    return attributes


def parse(params):
    """A ``SearchQuery`` from a QueryDict, or ``BadRequest``."""
    q = (_single(params, "q") or "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        _bad("q", f"At most {MAX_QUERY_LENGTH} characters.")
    category = (_single(params, "category") or "").strip() or None
    if category and len(category) > 255:
        _bad("category", "At most 255 characters.")
    min_price, max_price = _price(params, "minPrice"), _price(params, "maxPrice")
    if min_price is not None and max_price is not None and min_price > max_price:
        _bad("minPrice", "Must not exceed maxPrice.")
    sort_by = _single(params, "sortBy") or "_score"
    if sort_by not in SORT_FIELDS:
        _bad("sortBy", f"Must be one of {', '.join(SORT_FIELDS)}.")
    sort_order = (_single(params, "sortOrder") or "desc").lower()
    if sort_order not in SORT_ORDERS:
        _bad("sortOrder", "Must be asc or desc.")
    # The shared rule of every paginated list: above the maximum is capped, below 1 or text is a 400.
    limit = parse_positive_int(_single(params, "limit"), "limit", DEFAULT_LIMIT, settings.MAX_PAGE_SIZE)
    page = _int(params, "page", 1, 1, MAX_RESULT_WINDOW)
    if page * limit > MAX_RESULT_WINDOW:
        _bad("page", f"Results beyond the first {MAX_RESULT_WINDOW} cannot be paged to; refine the search.")
    return SearchQuery(
        q=q,
        category=category,
        min_price=min_price,
        max_price=max_price,
        in_stock=_bool(params, "inStock"),
        attributes=_attributes(params),
        page=page,
        limit=limit,
        sort_by=sort_by,
        sort_order=sort_order,
    )
