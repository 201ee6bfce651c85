"""Elasticsearch backend (elasticsearch-dsl 8): one index per build, behind an alias.

``settings.ELASTICSEARCH_INDEX`` names the alias. The first write creates
``<alias>_<timestamp>`` and points the alias at it; ``rebuild`` fills a new index and swaps the
alias in one atomic ``_aliases`` call, then deletes the old index (zero downtime).

Documents are the product payload with prices as numbers (Elasticsearch compares numbers, not
strings), plus derived ``search_*`` fields the API strips: the attribute words, a folded name
for sorting and the lowest/highest variant price (sorting by price reads one number per
document instead of a nested sort).

Versions: a document with the catalogue's ``version`` is indexed with ``VERSIONED_BASE +
version`` and ``version_type=external`` (strictly greater: a stock change does not move
``updatedAt``, the version does); a version conflict means the index holds that version or a
newer one, and the event is skipped. A document from before versions existed keeps the old rule,
``updatedAt`` in milliseconds with ``external_gte``. ``VERSIONED_BASE`` (10^13, beyond any
millisecond timestamp until the year 2286) ranks every versioned document above those, so an
index filled before versions needs no rebuild. A rebuild writes each product once, with
``external_gte`` and the same numbers.
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import bulk
from elasticsearch_dsl import (
    Boolean,
    Date,
    Document,
    Index,
    InnerDoc,
    Integer,
    Keyword,
    MetaField,
    Nested,
    Object,
    Q,
    ScaledFloat,
    Search,
    Text,
    analyzer,
)

from apps.search.backends import Backend, SearchUnavailable
from apps.search.documents import fold, price_text, query_terms
from apps.search.params import PRICE_RANGES, price_bucket

logger = logging.getLogger(__name__)

folding = analyzer("folding", tokenizer="standard", filter=["lowercase", "asciifolding"])

TEXT_FIELDS = ["name^4", "sku^3", "category_names^2", "description^1", "search_attributes^1"]
DERIVED_PREFIX = "search_"
CATEGORY_FACET_SIZE = 50
ATTRIBUTE_FACET_SIZE = 100
_clients = {}
_known_aliases = set()


class VariantDoc(InnerDoc):
    id = Keyword()
    price = ScaledFloat(scaling_factor=100)
    stockQuantity = Integer()  # noqa: N815 - the payload's field name
    attributes = Object(enabled=False)


class ProductIndexDocument(Document):
    """The mapping of a product document (the index name is given at run time)."""

    id = Keyword()
    sku = Text(analyzer=folding, fields={"keyword": Keyword()})
    name = Text(analyzer=folding, fields={"keyword": Keyword()})
    description = Text(analyzer=folding)
    isActive = Boolean()  # noqa: N815
    createdAt = Date()  # noqa: N815
    updatedAt = Date()  # noqa: N815
    category_names = Text(analyzer=folding, fields={"keyword": Keyword()})
    category_slugs = Keyword()
    category_path_slugs = Keyword()
    variant_attributes_flat = Keyword()
    variants = Nested(VariantDoc)
    images = Object(enabled=False)
    search_attributes = Text(analyzer=folding)
    search_name_sort = Keyword()
    search_min_price = ScaledFloat(scaling_factor=100)
    search_max_price = ScaledFloat(scaling_factor=100)

    class Meta:
        dynamic = MetaField(False)  # other payload fields are kept in _source, not indexed


def client():
    url = settings.ELASTICSEARCH_URL
    if url not in _clients:
        _clients[url] = Elasticsearch(
            url,
            request_timeout=getattr(settings, "ELASTICSEARCH_TIMEOUT", 5),
            max_retries=1,
            retry_on_timeout=False,
        )
    return _clients[url]


def _unavailable(exc):
    logger.warning("elasticsearch unavailable", extra={"error": str(exc)})
    return SearchUnavailable(f"Elasticsearch: {type(exc).__name__}: {exc}")


VERSIONED_BASE = 10**13


def _version(document):
    """(Elasticsearch version, version type) of a document, or (None, None) when it has neither
    a version nor ``updatedAt``."""
    if document.version is not None:
        return VERSIONED_BASE + document.version, "external"
    if document.updated_at is None:
        return None, None
    return int(document.updated_at.timestamp() * 1000), "external_gte"


def to_source(document):
    source = document.as_indexed()
    source.update(
        {
            "search_attributes": fold(document.attribute_text),
            "search_name_sort": fold(document.name),
            "search_min_price": None if document.min_price is None else float(document.min_price),
            "search_max_price": None if document.max_price is None else float(document.max_price),
        }
    )
    return source


def from_source(source):
    """Back to the payload's shape: derived fields dropped, prices "19.90" again."""
    payload = {k: v for k, v in source.items() if not k.startswith(DERIVED_PREFIX)}
    payload["variants"] = [{**v, "price": price_text(v.get("price"))} for v in payload.get("variants") or []]
    return payload


class ElasticsearchBackend(Backend):
    name = "elasticsearch"

    @property
    def alias(self):
        return settings.ELASTICSEARCH_INDEX

    @property
    def es(self):
        return client()

    @property
    def refresh(self):
        # Tests set "wait_for" so a write is searchable when the call returns.
        return getattr(settings, "ELASTICSEARCH_REFRESH", False)

    # --- indices ------------------------------------------------------------------------------

    def _create_index(self):
        name = f"{self.alias}_{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        index = Index(name, using=self.es)
        index.settings(number_of_shards=1, number_of_replicas=0)
        index.document(ProductIndexDocument)
        index.create()
        return name

    def _indices_behind_alias(self):
        try:
            return sorted(self.es.indices.get_alias(name=self.alias).keys())
        except NotFoundError:
            return []

    def _ensure_alias(self):
        key = (settings.ELASTICSEARCH_URL, self.alias)
        if key in _known_aliases:
            return
        if not self.es.indices.exists_alias(name=self.alias):
            if self.es.indices.exists(index=self.alias):
                raise SearchUnavailable(f"'{self.alias}' is an index, not an alias: run manage.py reindex")
            name = self._create_index()
            self.es.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias}}])
        _known_aliases.add(key)

    # --- writes -------------------------------------------------------------------------------

    def upsert(self, document):
        try:
            self._ensure_alias()
            options = {}
            version, version_type = _version(document)
            if version is not None:
                options = {"version": version, "version_type": version_type}
            self.es.index(
                index=self.alias, id=document.id, document=to_source(document), refresh=self.refresh, **options
            )
            return True
        except ConflictError:
            return False  # this version or a newer one is indexed already
        except (TransportError, ApiError) as exc:
            _known_aliases.discard((settings.ELASTICSEARCH_URL, self.alias))
            raise _unavailable(exc) from exc

    def delete(self, product_id):
        try:
            self._ensure_alias()
            self.es.options(ignore_status=404).delete(index=self.alias, id=str(product_id), refresh=self.refresh)
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc

    def rebuild(self, batches, on_batch=None):
        # Elasticsearch away (before or during the rebuild) is SearchUnavailable, as for every
        # other operation: `manage.py reindex` then says so instead of a client traceback.
        try:
            return self._rebuild(batches, on_batch)
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc

    def _rebuild(self, batches, on_batch):
        old = self._indices_behind_alias()
        new = self._create_index()
        total = 0
        try:
            for batch in batches:
                actions = []
                for document in batch:
                    action = {"_index": new, "_id": document.id, "_source": to_source(document)}
                    version, _ = _version(document)
                    if version is not None:  # a new index: each product once, equal versions apply
                        action.update({"_version": version, "_version_type": "external_gte"})
                    actions.append(action)
                if actions:
                    bulk(self.es, actions, refresh=False)
                total += len(batch)
                if on_batch:
                    on_batch(len(batch))
            self.es.indices.refresh(index=new)
            actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
            if not old and self.es.indices.exists(index=self.alias):
                self.es.indices.delete(index=self.alias)  # a plain index from before the alias
            actions.append({"add": {"index": new, "alias": self.alias}})
            self.es.indices.update_aliases(actions=actions)
        except BaseException:
            try:
                self.es.options(ignore_status=404).indices.delete(index=new)
            except (TransportError, ApiError):
                logger.warning("could not delete the unfinished index", extra={"index": new})
            raise  # the rebuild's own error, not the clean-up's
        for name in old:
            self.es.options(ignore_status=404).indices.delete(index=name)
        _known_aliases.add((settings.ELASTICSEARCH_URL, self.alias))
        return total

    # --- reads --------------------------------------------------------------------------------

    def _variant_filter(self, query):
        conditions = []
        price = {}
        if query.min_price is not None:
            price["gte"] = float(query.min_price)
        if query.max_price is not None:
            price["lte"] = float(query.max_price)
        if price:
            conditions.append(Q("range", variants__price=price))
        if query.in_stock:
            conditions.append(Q("range", variants__stockQuantity={"gt": 0}))
        if not conditions:
            return None
        # One variant must satisfy every variant condition (in range and in stock).
        return Q("nested", path="variants", query=Q("bool", filter=conditions))

    def _sort(self, query):
        order = query.sort_order
        if query.sort_by == "price":
            field = "search_max_price" if order == "desc" else "search_min_price"
            key = {field: {"order": order, "missing": "_last"}}
        elif query.sort_by == "createdAt":
            key = {"createdAt": {"order": order, "missing": "_last"}}
        elif query.sort_by == "name":
            key = {"search_name_sort": {"order": order}}
        else:
            key = {"_score": {"order": "desc"}}
        return [key, {"createdAt": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}]

    def build(self, query):
        """The ``Search`` for a query (public for the tests and the benchmark)."""
        filters = [Q("term", isActive=True)]
        if query.category:
            # Its own categories, or their ancestors (payloads with category_path_slugs).
            filters.append(
                Q(
                    "bool",
                    should=[Q("term", category_slugs=query.category), Q("term", category_path_slugs=query.category)],
                    minimum_should_match=1,
                )
            )
        variant_filter = self._variant_filter(query)
        if variant_filter is not None:
            filters.append(variant_filter)
        for group in query.attribute_flats():
            filters.append(Q("terms", variant_attributes_flat=group))
        must = []
        if query.q:
            # Every word must match some field, each word fuzzily (as the database backend).
            must = [Q("multi_match", query=term, fields=TEXT_FIELDS, fuzziness="AUTO") for term in query_terms(query.q)]
        search = Search(using=self.es, index=self.alias).query(Q("bool", must=must, filter=filters))
        search = search.sort(*self._sort(query)).extra(
            from_=query.offset, size=query.limit, track_total_hits=True, track_scores=True
        )
        search.aggs.bucket("categories", "terms", field="category_slugs", size=CATEGORY_FACET_SIZE)
        search.aggs.bucket("attributes", "terms", field="variant_attributes_flat", size=ATTRIBUTE_FACET_SIZE)
        ranges = {}
        for i, (low, high) in enumerate(PRICE_RANGES):
            bounds = {}
            if low is not None:
                bounds["gte"] = float(low)
            if high is not None:
                bounds["lt"] = float(high)
            ranges[f"b{i}"] = Q("nested", path="variants", query=Q("range", variants__price=bounds))
        # Products (not variants) per price range: a filters aggregation of nested queries.
        search.aggs.bucket("price_ranges", "filters", filters=ranges)
        return search

    def search(self, query):
        empty = {"data": [], "total": 0, "facets": {"categories": [], "attributes": [], "price_ranges": []}}
        if query.q and not query_terms(query.q):
            return empty
        try:
            body = self.build(query).to_dict()
            response = self.es.search(index=self.alias, **body)
        except NotFoundError:
            return empty  # nothing indexed yet
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        hits = response["hits"]
        aggregations = response.get("aggregations", {})
        return {
            "data": [from_source(hit["_source"]) for hit in hits["hits"]],
            "total": hits["total"]["value"],
            "facets": self._facets(aggregations),
        }

    @staticmethod
    def _facets(aggregations):
        categories = [
            {"slug": b["key"], "count": b["doc_count"]} for b in aggregations.get("categories", {}).get("buckets", [])
        ]
        attributes = {}
        for bucket in aggregations.get("attributes", {}).get("buckets", []):
            name, sep, value = bucket["key"].partition(":")
            if sep:
                attributes.setdefault(name, []).append({"value": value, "count": bucket["doc_count"]})
        counts = aggregations.get("price_ranges", {}).get("buckets", {})
        price_ranges = []
        for i, (low, high) in enumerate(PRICE_RANGES):
            count = counts.get(f"b{i}", {}).get("doc_count", 0)
            if count:
                price_ranges.append(price_bucket(low, high, count))
        return {
            "categories": categories,
            "attributes": [{"name": n, "options": o} for n, o in attributes.items()],
            "price_ranges": price_ranges,
        }

    # --- status -------------------------------------------------------------------------------

    def status(self):
        try:
            info = self.es.info()
            indices = self._indices_behind_alias()
            documents = self.es.count(index=self.alias)["count"] if indices else 0
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        return {
            "backend": self.name,
            "url": settings.ELASTICSEARCH_URL,
            "version": info.get("version", {}).get("number"),
            "alias": self.alias,
            "indices": indices,
            "documents": documents,
        }

    def check(self):
        status = self.status()
        if not status["indices"]:
            raise SearchUnavailable(f"alias '{self.alias}' points at no index: run manage.py reindex")
        return {"alias": status["alias"], "indices": status["indices"], "documents": status["documents"]}
