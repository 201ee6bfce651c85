"""Database backend: the search context's tables, with the vendor's own full-text engine.

- SQLite: an FTS5 table ``search_fts`` (rowid = ``SearchDocument.id``; columns name, sku,
  categories, description, attributes) ranked by ``bm25`` with the weights 4, 3, 2, 1, 1.
- PostgreSQL: ``search_vector`` = name (A) + sku (B) + categories (C) + description and
  attributes (D), GIN-indexed, ranked by ``ts_rank`` with weights D 0.25, C 0.5, B 0.75, A 1.0
  (exactly 1:2:3:4; PostgreSQL has four weight classes, so description and attributes share D).
  A trigger computes it from the row's texts in the row's own INSERT (migration 0010).

Each query word matches the word itself, words it begins (as-you-type prefix), and, when the
word is not in the vocabulary, its close spellings (Levenshtein distance within Elasticsearch's
``AUTO`` fuzziness) found in ``SearchTerm`` (same first letter, and on PostgreSQL also pg_trgm
similarity). Every word must match (AND), in any field.
"""

import json
import logging
import math

from django.contrib.postgres.search import SearchQuery as PgQuery
from django.contrib.postgres.search import SearchRank
from django.db import DatabaseError, connections, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields import BooleanField, FloatField
from django.utils import timezone

from apps.search.backends import Backend, SearchUnavailable
from apps.search.documents import edit_distance, fuzziness, query_terms, tokens
from apps.search.models import (
    SearchAttribute,
    SearchCategory,
    SearchDocument,
    SearchTerm,
)
from apps.search.params import PRICE_RANGES, price_bucket
from ecommerce.db import alias_for
from ecommerce.sql import CompiledQuery, InArray, update_row

logger = logging.getLogger(__name__)

FTS_TABLE = "search_fts"
DOC_TABLE = SearchDocument._meta.db_table
FTS_WEIGHTS = "4.0, 3.0, 2.0, 1.0, 1.0"  # name, sku, categories, description, attributes
PG_WEIGHTS = [0.25, 0.5, 0.75, 1.0]  # D, C, B, A
MAX_FUZZY_ALTERNATIVES = 8
CATEGORY_FACET_SIZE = 50
ATTRIBUTE_FACET_SIZE = 100


def words(text):
    """The words of a text, folded, separated by single spaces: what every engine indexes
    (PostgreSQL's parser would otherwise read "EC-2024" as "ec" and the number -2024)."""
    return " ".join(tokens(text))


# The indexed document of a product, locked: every event the search consumer applies reads it.
# Compiled once per connection (ecommerce/sql.py), as the stock rewrite's UPDATE (update_row):
# the ORM's compiler was most of the consumer's CPU per stock movement (bench/README.md).
_INDEXED = CompiledQuery(
    lambda: (
        SearchDocument.objects.select_for_update()
        .filter(InArray("product_id"))
        .values_list("id", "updated_at", "version", "payload")
    )
)


class DatabaseBackend(Backend):
    name = "database"

    @property
    def alias(self):
        return alias_for("search")

    @property
    def vendor(self):
        return connections[self.alias].vendor

    def _docs(self):
        return SearchDocument.objects.using(self.alias)

    # --- writes -------------------------------------------------------------------------------

    def upsert(self, document):
        # No savepoint of its own: the consumer's runner already gives each event one, and two
        # more statements per event were a tenth of the search consumer's CPU (bench/README.md).
        with transaction.atomic(using=self.alias, savepoint=False):
            rows = _INDEXED.rows(self.alias, [document.product_id])
            current = dict(zip(("id", "updated_at", "version", "payload"), rows[0], strict=True)) if rows else None
            if current and document.is_older(current["version"], current["updated_at"]):
                return False
            if current and document.differs_only_in_stock(current["payload"]):
                self._restock(current["id"], document)
                return True
            self._remove([document.product_id])
            self._insert([document])
        return True

    def _restock(self, row_id, document):
        """A stock movement: rewrite the payload, ``in_stock`` and the variants' offers, instead
        of deleting and re-inserting the product's rows and full-text entries (the search
        consumer's main cost under checkouts, bench/README.md)."""
        values = {
            "payload": document.payload,
            "in_stock": document.in_stock,
            "variant_offers": document.variant_offers,
            "updated_at": document.updated_at,
            "version": document.version,
            "indexed_at": timezone.now(),
        }
        update_row(SearchDocument, row_id, values, self.alias)

    def delete(self, product_id):
        with transaction.atomic(using=self.alias):
            self._remove([product_id])

    def _remove(self, product_ids):
        ids = list(self._docs().filter(product_id__in=product_ids).values_list("id", flat=True))
        if not ids:
            return
        if self.vendor == "sqlite":
            with connections[self.alias].cursor() as cursor:
                placeholders = ",".join(["%s"] * len(ids))
                cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({placeholders})", ids)  # noqa: S608
        for model in (SearchCategory, SearchAttribute):
            model.objects.using(self.alias).filter(document_id__in=ids)._raw_delete(self.alias)
        self._docs().filter(id__in=ids)._raw_delete(self.alias)

    def _insert(self, documents, known_terms=None):
        """Insert documents (their rows must not exist). ``known_terms``: the vocabulary already
        written during a rebuild (saves re-sending it); otherwise the table is asked."""
        facets = [self._facet_keys(d) for d in documents]  # (own category slugs, attribute flats)
        rows = self._docs().bulk_create(
            [
                SearchDocument(
                    product_id=d.product_id,
                    payload=d.payload,
                    name=d.name,
                    sku=d.sku,
                    name_text=words(d.name)[:255],
                    sku_text=words(d.sku)[:255],
                    description_text=words(d.description),
                    category_text=words(" ".join(d.category_names)),
                    attribute_text=words(d.attribute_text),
                    is_active=d.is_active,
                    min_price=d.min_price,
                    max_price=d.max_price,
                    in_stock=d.in_stock,
                    price_buckets=d.price_buckets,
                    variant_offers=d.variant_offers,
                    facet_categories=direct,
                    facet_attributes=flats,
                    created_at=d.created_at,
                    updated_at=d.updated_at,
                    version=d.version,
                )
                for d, (direct, flats) in zip(documents, facets, strict=True)
            ]
        )
        categories, attributes, vocabulary = [], [], set()
        for row, d, (direct, flats) in zip(rows, documents, facets, strict=True):
            slugs = dict.fromkeys([*direct, *(s[:255] for s in d.category_path_slugs)])
            categories += [SearchCategory(document_id=row.id, slug=s) for s in slugs]
            attributes += [SearchAttribute(document_id=row.id, flat=flat) for flat in flats]
            vocabulary |= d.words()
        SearchCategory.objects.using(self.alias).bulk_create(categories, ignore_conflicts=True)
        SearchAttribute.objects.using(self.alias).bulk_create(attributes, ignore_conflicts=True)
        terms = SearchTerm.objects.using(self.alias)
        if known_terms is None:
            vocabulary -= set(terms.filter(term__in=vocabulary).values_list("term", flat=True)) if vocabulary else set()
        else:
            vocabulary -= known_terms
            known_terms |= vocabulary
        terms.bulk_create(
            [SearchTerm(term=w, length=len(w)) for w in sorted(vocabulary)], ignore_conflicts=True, batch_size=1000
        )
        if self.vendor == "sqlite":
            with connections[self.alias].cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} (rowid, name, sku, categories, description, attributes) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (
                            row.id,
                            row.name_text,
                            row.sku_text,
                            row.category_text,
                            row.description_text,
                            row.attribute_text,
                        )
                        for row in rows
                    ],
                )

    @staticmethod
    def _facet_keys(document):
        """(own category slugs, "name:value" attribute flats), each once, in document order."""
        flats = dict.fromkeys(flat for _, _, flat in document.attributes)
        return list(dict.fromkeys(s[:255] for s in document.category_slugs)), list(flats)

    def rebuild(self, batches, on_batch=None):
        """One transaction: readers see the old rows until it commits (MVCC / SQLite WAL)."""
        total, known_terms = 0, set()
        with transaction.atomic(using=self.alias):
            for model in (SearchCategory, SearchAttribute, SearchTerm, SearchDocument):
                model.objects.using(self.alias).all()._raw_delete(self.alias)
            if self.vendor == "sqlite":
                with connections[self.alias].cursor() as cursor:
                    cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
            for batch in batches:
                seen = {}
                for d in batch:
                    seen[d.product_id] = d  # a product twice in one batch: the last wins
                self._remove(list(seen))  # ... and across batches
                self._insert(list(seen.values()), known_terms=known_terms)
                total += len(batch)
                if on_batch:
                    on_batch(len(batch))
        if self.vendor == "postgresql":
            # Fresh statistics, or the planner guesses from the old (or empty) tables; and the
            # old rows vacuumed away: until autovacuum gets to them, the full-text index still
            # points at every generation of every document (after six rebuilds the search
            # component bench's broad queries took 174 ms instead of 87). VACUUM cannot run
            # inside a transaction (a test's, say): ANALYZE alone then.
            connection = connections[self.alias]
            tables = ", ".join(m._meta.db_table for m in (SearchDocument, SearchCategory, SearchAttribute))
            with connection.cursor() as cursor:
                cursor.execute(f"{'ANALYZE' if connection.in_atomic_block else 'VACUUM ANALYZE'} {tables}")
        return total

    # --- reads --------------------------------------------------------------------------------

    def _fuzzy_alternatives(self, term):
        distance = fuzziness(term)
        if distance == 0:
            return []
        terms = SearchTerm.objects.using(self.alias).filter(length__gte=len(term) - distance)
        terms = terms.filter(length__lte=len(term) + distance)
        nearby = Q(term__startswith=term[0])
        if self.vendor == "postgresql":
            nearby |= Q(term__trigram_similar=term)
        candidates = terms.filter(nearby).values_list("term", flat=True)[:2000]
        scored = []
        for candidate in candidates:
            d = edit_distance(term, candidate, distance)
            if 0 < d <= distance:
                scored.append((d, candidate))
        return [c for _, c in sorted(scored)[:MAX_FUZZY_ALTERNATIVES]]

    def _alternatives(self, terms):
        """For each query word: (word, [close spellings]) — spellings only for unknown words."""
        known = set(SearchTerm.objects.using(self.alias).filter(term__in=terms).values_list("term", flat=True))
        return [(t, [] if t in known else self._fuzzy_alternatives(t)) for t in terms]

    def _text(self, qs, terms):
        """Restrict ``qs`` to the documents matching every word; returns (qs, score expression)."""
        alternatives = self._alternatives(terms)
        if self.vendor == "sqlite":
            expression = " AND ".join(
                "(" + " OR ".join([f'"{t}" *', *(f'"{a}"' for a in alts)]) + ")" for t, alts in alternatives
            )
            matching = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
            qs = qs.filter(id__in=RawSQL(matching, [expression]))
            score = RawSQL(
                f"SELECT -bm25({FTS_TABLE}, {FTS_WEIGHTS}) FROM {FTS_TABLE} "  # noqa: S608
                f'WHERE {FTS_TABLE} MATCH %s AND {FTS_TABLE}.rowid = "{DOC_TABLE}"."id"',
                [expression],
                output_field=FloatField(),
            )
            return qs, score
        if self.vendor == "postgresql":
            expression = " & ".join(
                "(" + " | ".join([f"'{t}':*", *(f"'{a}'" for a in alts)]) + ")" for t, alts in alternatives
            )
            query = PgQuery(expression, search_type="raw", config="simple")
            return qs.filter(search_vector=query), SearchRank(F("search_vector"), query, weights=PG_WEIGHTS)
        # Any other database: every word somewhere in the name, sku or description; no ranking.
        for term, alts in alternatives:
            match = Q()
            for word in [term, *alts]:
                match |= Q(name_text__contains=word) | Q(sku_text__contains=word) | Q(description_text__contains=word)
                match |= Q(category_text__contains=word) | Q(attribute_text__contains=word)
            qs = qs.filter(match)
        return qs, Value(1.0, output_field=FloatField())

    def _filtered(self, query):
        qs = self._docs().filter(is_active=True)
        if query.category:
            qs = qs.filter(
                Exists(SearchCategory.objects.using(self.alias).filter(document=OuterRef("pk"), slug=query.category))
            )
        if query.min_price is not None or query.max_price is not None:
            qs = qs.filter(self._some_offer(query))
        elif query.in_stock:
            qs = qs.filter(in_stock=True)  # some variant in stock: the document's own flag
        for group in query.attribute_flats():
            qs = qs.filter(
                Exists(SearchAttribute.objects.using(self.alias).filter(document=OuterRef("pk"), flat__in=group))
            )
        return qs

    def _some_offer(self, query):
        """One variant must satisfy every variant condition (in the price range, in stock when
        asked), tested on the document's ``variant_offers`` ([[cents, stock], ...])."""
        column = f'"{DOC_TABLE}"."variant_offers"'
        if self.vendor == "postgresql":
            source, price, stock = f"jsonb_array_elements({column}) AS o", "(o->>0)::bigint", "(o->>1)::bigint"
        else:  # SQLite (JSON1)
            source, price, stock = (
                f"json_each({column}) AS o",
                "json_extract(o.value, '$[0]')",
                "json_extract(o.value, '$[1]')",
            )
        conditions, params = [], []
        if query.min_price is not None:
            conditions.append(f"{price} >= %s")
            params.append(math.ceil(query.min_price * 100))
        if query.max_price is not None:
            conditions.append(f"{price} <= %s")
            params.append(math.floor(query.max_price * 100))
        if query.in_stock:
            conditions.append(f"{stock} > 0")
        sql = f"EXISTS (SELECT 1 FROM {source} WHERE {' AND '.join(conditions)})"  # noqa: S608 - constants only
        return RawSQL(sql, params, output_field=BooleanField())

    def _sort_keys(self, query, score):
        """The requested order as (expression, descending, nulls last); ties: newest, then id."""
        descending = query.sort_order == "desc"
        if query.sort_by == "price":
            key = (F("max_price"), True, True) if descending else (F("min_price"), False, True)
        elif query.sort_by == "createdAt":
            key = (F("created_at"), descending, True)
        elif query.sort_by == "name":
            key = (F("name_text"), descending, False)
        elif score is not None:
            key = (score, True, True)
        else:
            key = (F("created_at"), True, True)
        return [key, (F("created_at"), True, True), (F("product_id"), False, False)]

    def search(self, query):
        try:
            return self._search(query)
        except DatabaseError as exc:
            logger.exception("database search failed")
            raise SearchUnavailable(str(exc)) from exc

    def _search(self, query):
        qs = self._filtered(query)
        score = None
        if query.q:
            terms = query_terms(query.q)
            if not terms:  # only punctuation: nothing can match
                return {"data": [], "total": 0, "facets": {"categories": [], "attributes": [], "price_ranges": []}}
            qs, score = self._text(qs, terms)
        keys = self._sort_keys(query, score if query.sort_by == "_score" else None)
        qs = qs.annotate(**{f"k{i}": expression for i, (expression, _, _) in enumerate(keys)})
        order = ", ".join(
            f"k{i} {'DESC' if descending else 'ASC'}{' NULLS LAST' if nulls_last else ''}"
            for i, (_, descending, nulls_last) in enumerate(keys)
        )
        total, facets, data = self._run(qs, [f"k{i}" for i in range(len(keys))], order, query.offset, query.limit)
        return {"data": data, "total": total, "facets": facets}

    def _each(self, column):
        """FROM clause: the elements ``f.value`` of the facet keys ``column`` of the CTE's rows."""
        if self.vendor == "postgresql":
            # A set-returning function in the select list (ProjectSet) unnests about twice as
            # fast as a LATERAL function scan: 6 against 12 ms for 19k keys. The keys are text[].
            return f"(SELECT unnest(m.{column}) AS value FROM m) AS f"  # noqa: S608
        return f"m, json_each(m.{column}) AS f"  # SQLite (JSON1); MySQL/MariaDB would use JSON_TABLE

    def _run(self, qs, keys, order, offset, limit):
        """The page, the count and the three facets in one statement: the (full-text) match runs
        once. ``m`` holds the filtered documents with their sort ``keys``; the page is the top
        ``limit`` after ``offset`` in ``order`` (a bounded sort: numbering every match in order
        cost a full sort of them, 4 of 23 ms of a broad query at 50k products). Each row of the
        result is (kind, key, value, count-or-rank)."""
        columns = ("id", "price_buckets", "facet_categories", "facet_attributes", *keys)
        ids_sql, params = qs.order_by().values(*columns).query.sql_with_params()
        materialized = "MATERIALIZED" if self.vendor == "postgresql" else ""
        # The count and the price facet in one pass: the matches grouped by their price-range
        # bitmask (at most 2^5 groups); Python adds the groups up per range, and all for the total.
        sql = f"""
            WITH m AS {materialized} ({ids_sql})
            SELECT 'prices', CAST(m.price_buckets AS TEXT), NULL, COUNT(*) FROM m GROUP BY m.price_buckets
            UNION ALL
            SELECT 'page', CAST(d.payload AS TEXT), NULL, p.rn FROM (
                SELECT t.id, ROW_NUMBER() OVER (ORDER BY {order}) AS rn
                FROM (SELECT m.id, {", ".join(keys)} FROM m ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}) t
            ) p JOIN {DOC_TABLE} d ON d.id = p.id
            UNION ALL
            SELECT * FROM (
                SELECT 'category', f.value, NULL, COUNT(*) AS n FROM {self._each("facet_categories")}
                GROUP BY f.value ORDER BY n DESC, f.value LIMIT {CATEGORY_FACET_SIZE}
            ) categories
            UNION ALL
            SELECT * FROM (
                SELECT 'attribute', f.value, NULL, COUNT(*) AS n FROM {self._each("facet_attributes")}
                GROUP BY f.value ORDER BY n DESC, f.value LIMIT {ATTRIBUTE_FACET_SIZE}
            ) attributes
        """  # noqa: S608 - only table names and constants are formatted in; values are parameters
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        total, page, categories, attributes, prices = 0, [], [], {}, [0] * len(PRICE_RANGES)
        for kind, key, _, count in rows:
            if kind == "prices":
                total += count
                for i in range(len(PRICE_RANGES)):
                    if int(key) & (1 << i):
                        prices[i] += count
            elif kind == "page":
                page.append((count, key))
            elif kind == "category":
                categories.append({"slug": key, "count": count})
            elif kind == "attribute":
                name, _, value = key.partition(":")
                attributes.setdefault(name, []).append({"value": value, "count": count})
        categories.sort(key=lambda c: (-c["count"], c["slug"]))
        groups = sorted(attributes.items(), key=lambda item: (-max(o["count"] for o in item[1]), item[0]))
        facets = {
            "categories": categories,
            "attributes": [
                {"name": name, "options": sorted(options, key=lambda o: (-o["count"], o["value"]))}
                for name, options in groups
            ],
            "price_ranges": [
                price_bucket(low, high, prices[i]) for i, (low, high) in enumerate(PRICE_RANGES) if prices[i]
            ],
        }
        return total, facets, [json.loads(payload) for _, payload in sorted(page)]

    # --- status -------------------------------------------------------------------------------

    def status(self):
        docs = self._docs()
        return {
            "backend": self.name,
            "database": self.alias,
            "vendor": self.vendor,
            "engine": {"sqlite": "FTS5", "postgresql": "tsvector + pg_trgm"}.get(self.vendor, "LIKE"),
            "documents": docs.count(),
            "activeDocuments": docs.filter(is_active=True).count(),
            "terms": SearchTerm.objects.using(self.alias).count(),
        }
