"""Where carts live: the ``carts`` cache (Redis through django-redis in production, a file cache in
the embedded mode), as JSON documents under ``cart:<id>`` with a TTL refreshed on every access.

The service layer sees one interface, whatever the backend:

- ``read(key)``: the stored document (or ``None``), and its TTL pushed back to the full period;
- ``atomic(keys, fn)``: a read-modify-write of several keys that no concurrent writer can interleave
  with. ``fn(values)`` gets ``{key: document or None}`` and returns ``(writes, result)`` where
  ``writes`` is ``{key: document or None (delete)}``; ``fn`` may run more than once (Redis retries
  it when another writer got there first), so it must not have side effects outside ``writes``.
- ``touch(key)``, ``delete(key)``.

Two implementations of that interface:

- ``RedisCartStore`` uses the raw redis-py client of the ``carts`` cache, so the real key is exactly
  ``cart:<id>`` (as in the original service; no ``:1:`` version prefix). ``read`` is one ``GETEX``;
  ``atomic`` is optimistic: ``WATCH`` the keys, read them, compute, then ``MULTI``/``EXEC``; when
  another client changed a watched key in between, ``EXEC`` fails and the computation is redone on
  the fresh data. No lock to expire, no lost update.
- ``CacheCartStore`` works over any Django cache (the embedded file cache): a per-key lock taken in
  sorted order, in-process (striped ``RLock``) and across processes (``cache.add`` with an expiry,
  so a crashed holder cannot block a cart for more than a few seconds).

Any failure to reach the store becomes ``CartStoreUnavailable`` (503), so the rest of the API keeps
working when Redis is down.
"""

import logging
import random
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager

import orjson
from django.conf import settings
from django.core.cache import caches

from ecommerce.errors import Conflict, ServiceUnavailable

logger = logging.getLogger(__name__)

CACHE_ALIAS = "carts"
UNAVAILABLE_MESSAGE = "Cart service temporarily unavailable."
BUSY_MESSAGE = "The cart is being changed by another request; please try again."


class CartStoreUnavailable(ServiceUnavailable):
    default_detail = UNAVAILABLE_MESSAGE


class CartBusy(Conflict):
    default_detail = BUSY_MESSAGE


class Retry(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an ``atomic`` callback when what it read shows that it must be called again with
    other keys; the store writes nothing and lets it through to the caller, who starts again."""


def ttl_seconds():
    return int(settings.CART_TTL_SECONDS)


def _dumps(document):
    return orjson.dumps(document)


def _loads(raw):
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # A value that is not ours (or was truncated) is treated as absent, never served.
        logger.warning("cart store: undecodable value ignored")
        return None


class RedisCartStore:
    """The production store: plain Redis keys, GETEX for reads, WATCH/MULTI for writes."""

    max_attempts = 100

    def __init__(self, client):
        self.client = client

    @contextmanager
    def _errors(self):
        from redis.exceptions import RedisError

        try:
            yield
        except RedisError as exc:
            logger.warning("cart store unavailable: %s: %s", type(exc).__name__, exc)
            raise CartStoreUnavailable()

    def read(self, key):
        with self._errors():
            return _loads(self.client.getex(key, ex=ttl_seconds()))

    def ttl(self, key):
        with self._errors():
            return self.client.ttl(key)

    def touch(self, key):
        with self._errors():
            self.client.expire(key, ttl_seconds())

    def delete(self, key):
        with self._errors():
            return bool(self.client.delete(key))

    def atomic(self, keys, fn):
        from redis.exceptions import WatchError

        keys = list(dict.fromkeys(keys))
        with self._errors():
            for attempt in range(self.max_attempts):
                with self.client.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(*keys)
                        raw = pipe.mget(keys)
                        values = {k: _loads(v) for k, v in zip(keys, raw, strict=True)}
                        writes, result = fn(values)
                        pipe.multi()
                        for key, document in writes.items():
                            if document is None:
                                pipe.delete(key)
                            else:
                                pipe.set(key, _dumps(document), ex=ttl_seconds())
                        pipe.execute()
                        return result
                    except WatchError:
                        # Someone else wrote one of the keys first: redo on fresh data.
                        time.sleep(random.uniform(0, min(0.05, 0.001 * (2 ** min(attempt, 6)))))  # noqa: S311
            raise CartBusy()


# Striped in-process locks (a fixed set: no per-cart object to leak); RLock because two keys of
# one transaction may fall on the same stripe.
_STRIPES = [threading.RLock() for _ in range(64)]


class CacheCartStore:
    """Any Django cache (the embedded file cache): per-key locks around read-modify-write."""

    lock_seconds = 10  # a crashed holder blocks a cart this long at most
    wait_seconds = 5

    def __init__(self, cache):
        self.cache = cache

    def _call(self, method, *args):
        """One cache operation; a backend failure (disk, network) means the store is unavailable."""
        try:
            return getattr(self.cache, method)(*args)
        except Exception as exc:  # noqa: BLE001 - whatever the backend raises, the cart cannot be served
            logger.warning("cart store unavailable: %s: %s", type(exc).__name__, exc)
            raise CartStoreUnavailable()

    def read(self, key):
        raw = self._call("get", key)
        if raw is not None:
            self._call("touch", key, ttl_seconds())
        return _loads(raw)

    def ttl(self, key):
        """Seconds left (-2 when absent), as far as the backend tells (the file cache stores an expiry)."""
        expiry = _file_cache_expiry(self.cache, key)
        if expiry is None:
            return -2 if self._call("get", key) is None else -1
        return max(0, round(expiry - time.time()))

    def touch(self, key):
        self._call("touch", key, ttl_seconds())

    def delete(self, key):
        return bool(self._call("delete", key))

    @contextmanager
    def _locked(self, key):
        lock_key = f"lock:{key}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.wait_seconds
        while not self._call("add", lock_key, token, self.lock_seconds):
            if time.monotonic() > deadline:
                raise CartBusy()
            time.sleep(0.005)
        try:
            yield
        finally:
            if self._call("get", lock_key) == token:
                self._call("delete", lock_key)

    def atomic(self, keys, fn):
        keys = sorted(set(keys))
        stripes = sorted({hash(k) % len(_STRIPES) for k in keys})
        with ExitStack() as stack:
            for index in stripes:
                stack.enter_context(_STRIPES[index])
            for key in keys:
                stack.enter_context(self._locked(key))
            values = {k: _loads(self._call("get", k)) for k in keys}
            writes, result = fn(values)
            for key, document in writes.items():
                if document is None:
                    self._call("delete", key)
                else:
                    self._call("set", key, _dumps(document), ttl_seconds())
            return result


def _file_cache_expiry(cache, key):
    """The expiry timestamp a FileBasedCache wrote in front of the value (``None`` elsewhere)."""
    import pickle

    from django.core.cache.backends.filebased import FileBasedCache

    if not isinstance(cache, FileBasedCache):
        return None
    path = cache._key_to_file(key)
    try:
        with open(path, "rb") as f:
            return pickle.load(f)  # our own cache file: the expiry is pickled first
    except FileNotFoundError:
        return None


def get_store():
    """The store of the ``carts`` cache as configured now (tests may swap the cache)."""
    cache = caches[CACHE_ALIAS]
    try:
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a runtime dependency
        RedisCache = ()  # noqa: N806
    if isinstance(cache, RedisCache):
        from django_redis import get_redis_connection

        return RedisCartStore(get_redis_connection(CACHE_ALIAS))
    return CacheCartStore(cache)
