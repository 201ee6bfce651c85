"""The search context's own copy of the catalogue, shaped for searching (database backend).

Filled only by the ``product_events`` consumer and ``manage.py reindex``; the request path reads
these tables and nothing else. ``payload`` is the product event payload as received (it is what
the API returns); the other columns are denormalised from it for filtering, sorting and facets.

Full text lives beside these tables, per database vendor (see ``backends/database.py``):
SQLite: the FTS5 virtual table ``search_fts`` (created by migration 0002 on SQLite only);
PostgreSQL: ``search_vector`` (weighted tsvector) with a GIN index, and a trigram GIN index on
``SearchTerm.term`` (pg_trgm, migration 0002 on PostgreSQL only).
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import models


class FacetKeysField(models.JSONField):
    """A list of strings: ``text[]`` on PostgreSQL, a JSON list elsewhere.

    The facets unnest these lists over every match of a search; PostgreSQL unnests an array
    faster than it walks a jsonb document (bench/README.md, finding 16), while SQLite has no
    arrays and keeps the JSON list its ``json_each`` reads."""

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "text[]"
        return super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor == "postgresql":
            return None if value is None else [str(key) for key in value]
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value, expression, connection):
        if connection.vendor == "postgresql":
            return value  # psycopg reads text[] as a list
        return super().from_db_value(value, expression, connection)

    def get_placeholder(self, value, compiler, connection):
        # Django 5.2 sends a multi-row insert as one array per column (UNNEST): an array of
        # arrays of different lengths is not a PostgreSQL array. Plain VALUES rows instead.
        return "%s"


class SearchDocument(models.Model):
    id = models.BigAutoField(primary_key=True)
    product_id = models.UUIDField(unique=True)
    payload = models.JSONField()
    name = models.CharField(max_length=255, db_index=True)
    sku = models.CharField(max_length=255, blank=True, default="")
    # Folded (lower-case, accent-free) texts the full-text index is built from; name_text sorts.
    name_text = models.CharField(max_length=255, default="")
    sku_text = models.CharField(max_length=255, blank=True, default="")
    description_text = models.TextField(blank=True, default="")
    category_text = models.TextField(blank=True, default="")
    attribute_text = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    min_price = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    max_price = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    in_stock = models.BooleanField(default=False)
    # Bit i set when some variant's price falls in the facet's range i (params.PRICE_RANGES):
    # the price facet then counts documents without joining their variants.
    price_buckets = models.PositiveSmallIntegerField(default=0)
    # The facet keys of the document (its own category slugs, its "name:value" attributes): the
    # facets count over the matching rows themselves, without joining two tables of 50k-200k
    # rows per search (34 of 68 ms of a broad query at 50k products).
    facet_categories = FacetKeysField(default=list)
    facet_attributes = FacetKeysField(default=list)
    # [[price in cents, stock], ...], one pair per variant: "some variant in [min, max] (and in
    # stock)" is tested on the row itself; an EXISTS over a variants table cost an index probe
    # per match (+22 ms on a broad query at 50k products).
    variant_offers = models.JSONField(default=list)
    created_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(null=True)
    # The catalogue's document version (null for documents published before versions existed):
    # an event is applied only when its version is greater (``ProductDocument.is_older``).
    version = models.BigIntegerField(null=True)
    indexed_at = models.DateTimeField(auto_now=True)
    # PostgreSQL only (NULL elsewhere): name A, sku B, categories C, description + attributes D.
    search_vector = SearchVectorField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["is_active", "created_at"], name="search_doc_active_created"),
            models.Index(fields=["name_text"], name="search_doc_name_text"),
            models.Index(fields=["min_price"], name="search_doc_min_price"),
            models.Index(fields=["max_price"], name="search_doc_max_price"),
        ]

    def __str__(self):
        return f"{self.name} ({self.product_id})"


class SearchCategory(models.Model):
    """A category slug of a document, for the category filter: its own categories and their
    ancestors (the filter on a parent category finds the products of its leaves). The facet
    counts the document's own ``facet_categories``."""

    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="categories")
    slug = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "slug"], name="search_category_once")]
        indexes = [models.Index(fields=["slug", "document"], name="search_category_slug")]


class SearchAttribute(models.Model):
    """A ``variant_attributes_flat`` entry ("color:red") of a document, for the attribute filter."""

    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="attributes")
    flat = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "flat"], name="search_attribute_once")]
        indexes = [models.Index(fields=["flat", "document"], name="search_attribute_flat")]


class SearchTerm(models.Model):
    """Vocabulary of indexed words, for typo tolerance ("moniter" → "monitor").

    Terms are only added (a stale term costs one useless alternative in a query); a reindex
    rebuilds the table.
    """

    term = models.CharField(max_length=100, unique=True)
    length = models.PositiveSmallIntegerField(db_index=True)


class DeletedProduct(models.Model):
    """Tombstones: an update of a deleted product arriving late must not resurrect it."""

    product_id = models.UUIDField(primary_key=True)
    deleted_at = models.DateTimeField(auto_now_add=True)
