"""Turning a product event payload into what the backends index, and the words of a query.

Both backends tokenise the same way (fold accents, lower-case, split on anything that is not a
letter or a digit), so a query means the same thing whichever backend answers it.
"""

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

from apps.events.ordering import MalformedVersion, is_stale, parse_version

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUERY_TERMS = 10
MAX_TERM_LENGTH = 100


class InvalidPayload(ValueError):
    """A product event payload the index cannot hold (no id, wrong types)."""


def fold(text):
    """Lower-case and strip accents: "Écran" → "ecran" (ES: standard + lowercase + asciifolding)."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def tokens(text):
    return [t[:MAX_TERM_LENGTH] for t in _WORD.findall(fold(text))]


def query_terms(q):
    """The distinct words of a query, in order, at most ``MAX_QUERY_TERMS``."""
    seen = []
    for term in tokens(q):
        if term not in seen:
            seen.append(term)
    return seen[:MAX_QUERY_TERMS]


def fuzziness(term):
    """Elasticsearch's ``fuzziness: AUTO``: 0 edits up to 2 characters, 1 up to 5, then 2."""
    n = len(term)
    return 0 if n <= 2 else 1 if n <= 5 else 2


def edit_distance(a, b, limit):
    """Damerau-Levenshtein (optimal string alignment: a swap of two neighbours is one edit, as
    Elasticsearch's fuzzy transpositions), or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def to_decimal(value):
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidPayload(f"not a price: {value!r}")
    if not result.is_finite():
        raise InvalidPayload(f"not a price: {value!r}")
    return result.quantize(Decimal("0.01"))


def to_datetime(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise InvalidPayload(f"not a timestamp: {value!r}")
    return parsed


def price_text(value):
    """Prices go out as the payload had them: a string with 2 decimals ("19.90")."""
    decimal = to_decimal(value)
    return None if decimal is None else f"{decimal:.2f}"


@dataclass
class Variant:
    id: str
    price: Decimal
    stock_quantity: int


@dataclass
class ProductDocument:
    """A product payload, checked and typed. ``payload`` is what the API returns."""

    product_id: uuid.UUID
    payload: dict
    name: str
    sku: str
    description: str
    is_active: bool
    created_at: datetime | None
    updated_at: datetime | None
    category_names: list
    category_slugs: list
    attributes_flat: list
    # The slugs of the categories and of all their ancestors (a filter on "clothing" finds shirts).
    category_path_slugs: list = field(default_factory=list)
    variants: list = field(default_factory=list)
    # The catalogue's document version (strictly increases per product); None in documents
    # published before versions existed, which are ordered by ``updated_at`` (``is_older``).
    version: int | None = None

    @property
    def id(self):
        return str(self.product_id)

    @property
    def min_price(self):
        return min((v.price for v in self.variants), default=None)

    @property
    def max_price(self):
        return max((v.price for v in self.variants), default=None)

    @property
    def price_buckets(self):
        """Bit i set when a variant's price is in ``PRICE_RANGES[i]`` (from inclusive, to exclusive)."""
        from apps.search.params import PRICE_RANGES

        mask = 0
        for i, (low, high) in enumerate(PRICE_RANGES):
            if any((low is None or v.price >= low) and (high is None or v.price < high) for v in self.variants):
                mask |= 1 << i
        return mask

    @property
    def variant_offers(self):
        """[[price in cents, stock], ...]: what the price and in-stock filters test."""
        return [[int(v.price * 100), v.stock_quantity] for v in self.variants]

    @property
    def in_stock(self):
        return any(v.stock_quantity > 0 for v in self.variants)

    @property
    def attributes(self):
        """[(name, value, flat)] from "name:value" strings (split on the first ':')."""
        pairs = []
        for flat in self.attributes_flat:
            name, sep, value = flat.partition(":")
            if sep:
                pairs.append((name[:255], value[:255], flat[:255]))
        return pairs

    def words(self):
        """Every indexed word (for the typo-tolerance vocabulary)."""
        text = " ".join([self.name, self.sku, self.description, " ".join(self.category_names), self.attribute_text])
        return set(tokens(text))

    @property
    def attribute_text(self):
        return " ".join(f"{n} {v}" for n, v, _ in self.attributes)

    def is_older(self, stored_version, stored_updated_at):
        """True when the index already holds this document or a newer one: ``stored_version`` /
        ``stored_updated_at`` describe the indexed one (``apps.events.ordering.is_stale``)."""
        return is_stale(self.version, self.updated_at, stored_version, stored_updated_at)

    def differs_only_in_stock(self, indexed_payload):
        """True when ``indexed_payload`` (a payload indexed earlier) equals this one but for the
        variants' stock and ``updatedAt``: what a checkout changes. Words, prices, categories
        and attributes are then already indexed; only stock (and the payload) need writing."""
        return _without_stock(indexed_payload) == _without_stock(self.payload)

    def as_indexed(self):
        """The payload with prices as numbers, for Elasticsearch (it must compare them)."""
        indexed = dict(self.payload)
        indexed["variants"] = [
            {**raw, "price": float(v.price), "stockQuantity": v.stock_quantity}
            for raw, v in zip(self.payload.get("variants") or [], self.variants, strict=True)
        ]
        return indexed


def _without_stock(payload):
    rest = {key: value for key, value in payload.items() if key not in ("updatedAt", "variants")}
    variants = payload.get("variants") or []
    rest["variants"] = [{k: v for k, v in variant.items() if k != "stockQuantity"} for variant in variants]
    return rest


def _strings(value, name):
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidPayload(f"{name} is not a list")
    return [str(v) for v in value if v is not None and str(v) != ""]


def from_payload(payload):
    """Check and type a PRODUCT_CREATED / PRODUCT_UPDATED payload (or a reindex document)."""
    if not isinstance(payload, dict):
        raise InvalidPayload("payload is not an object")
    try:
        product_id = uuid.UUID(str(payload.get("id")))
    except ValueError:
        raise InvalidPayload(f"not a product id: {payload.get('id')!r}")
    for required in ("name", "sku"):  # every catalogue document has both: their absence is a defect
        if not isinstance(payload.get(required), str) or not payload[required].strip():
            raise InvalidPayload(f"no {required}")
    raw_variants = payload.get("variants") or []
    if not isinstance(raw_variants, list):
        raise InvalidPayload("variants is not a list")
    variants, clean_variants = [], []
    for raw in raw_variants:
        if not isinstance(raw, dict):
            raise InvalidPayload("a variant is not an object")
        price = to_decimal(raw.get("price"))
        if price is None:
            raise InvalidPayload("a variant has no price")
        try:
            stock = int(raw.get("stockQuantity") or 0)
        except (TypeError, ValueError):
            raise InvalidPayload("a variant's stockQuantity is not an integer")
        variants.append(Variant(id=str(raw.get("id", "")), price=price, stock_quantity=stock))
        clean_variants.append({**raw, "price": f"{price:.2f}", "stockQuantity": stock})
    try:
        version = parse_version(payload.get("version"))
    except MalformedVersion as exc:
        raise InvalidPayload(str(exc))
    # The version orders documents (stored beside the payload); search results never show it.
    clean = {**{k: v for k, v in payload.items() if k != "version"}, "id": str(product_id), "variants": clean_variants}
    return ProductDocument(
        product_id=product_id,
        payload=clean,
        name=str(payload.get("name") or "")[:255],
        sku=str(payload.get("sku") or "")[:255],
        description=str(payload.get("description") or ""),
        is_active=payload.get("isActive", True) is not False,
        created_at=to_datetime(payload.get("createdAt")),
        updated_at=to_datetime(payload.get("updatedAt")),
        category_names=_strings(payload.get("category_names"), "category_names"),
        category_slugs=_strings(payload.get("category_slugs"), "category_slugs"),
        attributes_flat=_strings(payload.get("variant_attributes_flat"), "variant_attributes_flat"),
        category_path_slugs=_strings(payload.get("category_path_slugs"), "category_path_slugs"),
        variants=variants,
        version=version,
    )
