"""Republishing a category's products after it is renamed or moved, in chunks.

A product document carries its categories' names and the slugs of their ancestors
(``category_path_slugs``), so renaming or moving a category changes the document of every product
below it: 17,860 products for a root of the benchmark catalogue. Republishing them inside the
rename's transaction took 14 s and held all their row locks (checkouts of those products waited),
and a larger subtree would outlast the request. Instead:

1. the rename writes a ``CategoryRepublish`` row in its own transaction (``request``), so the work
   cannot be lost, and asks for a run once it commits;
2. ``run_pending`` republishes ``CATALOG_REPUBLISH_CHUNK`` products per transaction, in product id
   order, moving the row's cursor in the same transaction; the last chunk deletes the row.

A run is started after the commit (a Celery task; eager, in-process, on the embedded defaults),
and Celery beat sweeps every minute for rows whose run was lost (a worker or broker down at that
moment). Two runners never take the same row (``SKIP LOCKED``). Until its chunk is republished,
a product's document still shows the old names: search catches up within seconds.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.catalog import events
from apps.catalog.models import Category, CategoryRepublish, ProductCategory
from ecommerce.db import alias_for

logger = logging.getLogger(__name__)


def _using():
    return alias_for("catalog")


def subtree_ids(category_id):
    """The category and all its descendants (the tree is at most MAX_CATEGORY_DEPTH deep)."""
    ids, level = [category_id], [category_id]
    while level:
        level = list(Category.objects.filter(parent_id__in=level).values_list("id", flat=True))
        ids.extend(level)
    return ids


def request(category_id):
    """Inside the rename's transaction: schedule (or restart, when one is pending) the republish of
    the products below ``category_id``, and start a run after the commit."""
    CategoryRepublish.objects.using(_using()).update_or_create(
        category_id=category_id, defaults={"after_product_id": None, "requested_at": timezone.now()}
    )
    transaction.on_commit(start_run, using=_using())


def start_run():
    """The ``on_commit`` callback: hand the run to Celery. A failure to enqueue is logged, never
    raised into the request that committed: the row waits for the beat's sweep."""
    from apps.catalog.tasks import republish_categories

    try:
        republish_categories.delay()
    except Exception:  # noqa: BLE001 - the rename is committed; the sweep picks the row up
        logger.exception("could not start the category republish; the periodic sweep will")


def republish_next_chunk():
    """Republish the next chunk of one pending row; returns False when no row is free."""
    with transaction.atomic(using=_using()):
        job = (
            CategoryRepublish.objects.using(_using())
            .select_for_update(skip_locked=True)
            .order_by("requested_at", "id")
            .first()
        )
        if job is None:
            return False
        links = ProductCategory.objects.using(_using()).filter(category_id__in=subtree_ids(job.category_id))
        if job.after_product_id is not None:
            links = links.filter(product_id__gt=job.after_product_id)
        chunk = list(
            links.order_by("product_id")
            .values_list("product_id", flat=True)
            .distinct()[: settings.CATALOG_REPUBLISH_CHUNK]
        )
        if chunk:
            events.product_changed(chunk, touch=True)
        if len(chunk) < settings.CATALOG_REPUBLISH_CHUNK:
            job.delete()
        else:
            job.after_product_id = chunk[-1]
            job.save(update_fields=["after_product_id"])
    return True


def run_pending(max_chunks=None):
    """Work through every pending row, a chunk per transaction; returns the chunks done."""
    done = 0
    while (max_chunks is None or done < max_chunks) and republish_next_chunk():
        done += 1
    return done


def pending():
    """``[(category id, products done so far: cursor or None)]``, oldest first."""
    rows = CategoryRepublish.objects.using(_using()).order_by("requested_at", "id")
    return list(rows.values_list("category_id", "after_product_id"))
