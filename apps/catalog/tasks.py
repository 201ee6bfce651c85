"""Celery tasks of the catalogue (the sweep is scheduled from ``CatalogConfig.ready()``)."""

from celery import shared_task


@shared_task(name="catalog.republish_categories", ignore_result=True)
def republish_categories():
    """Republish the products below renamed or moved categories (``republish.run_pending``)."""
    from apps.catalog.republish import run_pending

    return run_pending()
