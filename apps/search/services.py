"""Every write to the search index: from product events, and the full rebuild."""

import logging
import uuid

from apps.search.backends import get_backend
from apps.search.documents import InvalidPayload, from_payload
from apps.search.models import DeletedProduct
from ecommerce.db import alias_for
from ecommerce.sql import CompiledQuery, InArray

logger = logging.getLogger(__name__)


# Read for every event the search consumer applies: compiled once per connection (ecommerce/sql.py).
_TOMBSTONE = CompiledQuery(lambda: DeletedProduct.objects.filter(InArray("product_id")).values_list("product_id"))


def index_product(payload, backend=None):
    """PRODUCT_CREATED / PRODUCT_UPDATED: upsert the document.

    Returns False when nothing changed: the product was deleted (a late update must not bring
    it back) or the index already holds a newer version (``updatedAt``).
    """
    document = from_payload(payload)
    if _TOMBSTONE.rows(alias_for("search"), [document.product_id]):
        return False
    return (backend or get_backend()).upsert(document)


def remove_product(product_id, backend=None):
    """PRODUCT_DELETED: drop the document and remember the id (tombstone)."""
    try:
        product_id = uuid.UUID(str(product_id))
    except ValueError:
        raise InvalidPayload(f"not a product id: {product_id!r}")
    DeletedProduct.objects.using(alias_for("search")).get_or_create(product_id=product_id)
    (backend or get_backend()).delete(product_id)


def documents_from_catalogue(batch_size=500, product_ids=None):
    """Batches of ``ProductDocument`` from the catalogue's public interface (reindex only)."""
    from apps.catalog.selectors import product_documents

    for batch in product_documents(product_ids=product_ids, batch_size=batch_size):
        documents = []
        for payload in batch:
            try:
                documents.append(from_payload(payload))
            except InvalidPayload as exc:
                logger.warning("skipped a product the index cannot hold", extra={"error": str(exc)})
        yield documents


def reindex(backend_name=None, batch_size=500, on_batch=None, batches=None):
    """Rebuild the whole index (new index, then swap); returns the number of documents."""
    backend = get_backend(backend_name)
    if batches is None:
        batches = documents_from_catalogue(batch_size=batch_size)
    return backend.rebuild(batches, on_batch=on_batch)
