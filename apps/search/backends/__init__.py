"""Search backends: one interface, two implementations, chosen by ``settings.SEARCH_BACKEND``.

A backend holds product documents and answers ``SearchQuery``s with the same shape:
``{"data": [payload...], "total": int, "facets": {...}}``.

- ``database`` (``backends/database.py``): the search context's own tables, with SQLite FTS5 or
  PostgreSQL full text; the embedded default.
- ``elasticsearch`` (``backends/elastic.py``): an index behind an alias, through elasticsearch-dsl.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.events.registry import RetryLater

BACKENDS = ("database", "elasticsearch")


class SearchUnavailable(RetryLater):
    """The backend cannot answer now (server down, timeout): the API turns it into a 503, and the
    consumer keeps the event for a later attempt instead of dead-lettering it."""


class Backend:
    name = ""

    def upsert(self, document):
        """Index one ``ProductDocument``; False when a newer version is already indexed."""
        raise NotImplementedError

    def delete(self, product_id):
        raise NotImplementedError

    def search(self, query):
        raise NotImplementedError

    def rebuild(self, batches, on_batch=None):
        """Replace everything with the documents of ``batches`` (lists of ``ProductDocument``).

        Readers keep seeing the old index until the new one is complete. Returns the count.
        """
        raise NotImplementedError

    def status(self):
        raise NotImplementedError

    def check(self):
        """Readiness: a dict of details, or raise."""
        return self.status()


def get_backend(name=None):
    name = name or settings.SEARCH_BACKEND
    if name == "database":
        from apps.search.backends.database import DatabaseBackend

        return DatabaseBackend()
    if name == "elasticsearch":
        from apps.search.backends.elastic import ElasticsearchBackend

        return ElasticsearchBackend()
    raise ImproperlyConfigured(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
