"""Read caches of the catalogue: the category list (menu and tree) and product details.

Both are read on nearly every page of the shop and change rarely compared with how often they
are read. They live in the default cache (Redis in production, shared by every process) for at
most ``CATALOG_CACHE_SECONDS`` and are invalidated where the catalogue emits its events
(``apps/catalog/events.py``), inside the transaction of the change and again once it commits:

- every product event drops the details of its products;
- category events, and product events other than stock movements (creation, deletion, category
  links, ...), drop the category list, whose ``productCount`` they may change.

The drop on commit covers a reader that cached the old state between the change and its commit;
a reader that fetched before the commit and stores after it can still leave an old copy behind,
which the TTL bounds (``CATALOG_CACHE_SECONDS``, 0 turns the caches off).
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

CATEGORIES_KEY = "catalog:categories:v1"


def _seconds():
    return getattr(settings, "CATALOG_CACHE_SECONDS", 60)


def detail_key(product_id):
    return f"catalog:product:v1:{product_id}"


def _get(key):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage must not fail a read: go to the database
        logger.warning("catalogue cache unavailable (get)", exc_info=True)
        return None


def _set(key, value):
    try:
        cache.set(key, value, _seconds())
    except Exception:  # noqa: BLE001
        logger.warning("catalogue cache unavailable (set)", exc_info=True)


def cached(key, build):
    """``build()``'s value, from the cache when it holds one (``build`` returns None: not cached)."""
    if _seconds() <= 0:
        return build()
    value = _get(key)
    if value is None:
        value = build()
        if value is not None:
            _set(key, value)
    return value


def _delete(keys):
    try:
        cache.delete_many(keys)
    except Exception:  # noqa: BLE001 - entries expire on their own (TTL)
        logger.warning("catalogue cache unavailable (delete)", exc_info=True)


def invalidate(product_ids=(), categories=False, using=None):
    """Drop the cached details of ``product_ids`` (and the category list): now and on commit."""
    keys = [detail_key(pid) for pid in product_ids]
    if categories:
        keys.append(CATEGORIES_KEY)
    if not keys:
        return
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys), using=using)
