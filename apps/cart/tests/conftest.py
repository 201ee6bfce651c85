"""Cart test fixtures.

``cart_backend`` runs a test against both stores: the embedded file cache, and real Redis (marked
``redis``: skipped without REDIS_URL locally, a failure in CI). Catalogue data is made through the
catalogue's public services and read back through its selectors (never its models).
"""

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import caches

from apps.cart.store import get_store

_counter = itertools.count(1)


def redis_cache_settings(url):
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1.0,
            "SOCKET_TIMEOUT": 1.0,
        },
    }


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis)])
def cart_backend(request, settings, tmp_path):
    """The carts cache as the file cache, then as real Redis; yields the backend's name."""
    caches_setting = dict(settings.CACHES)
    if request.param == "redis":
        caches_setting["carts"] = redis_cache_settings(settings.CART_REDIS_URL or settings.REDIS_URL)
    else:
        caches_setting["carts"] = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "carts"),
        }
    settings.CACHES = caches_setting
    caches["carts"].clear()
    yield request.param
    caches["carts"].clear()


@pytest.fixture
def file_backend(settings, tmp_path):
    """The carts cache on the embedded file cache only."""
    settings.CACHES = {
        **settings.CACHES,
        "carts": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path / "c")},
    }
    yield get_store()


@pytest.fixture
def redis_backend(settings):
    """The carts cache on real Redis only (for TTL and raw-key checks)."""
    caches_setting = dict(settings.CACHES)
    caches_setting["carts"] = redis_cache_settings(settings.CART_REDIS_URL or settings.REDIS_URL)
    settings.CACHES = caches_setting
    caches["carts"].clear()
    yield get_store()
    caches["carts"].clear()


@dataclass
class Item:
    product_id: str
    variant_id: str
    name: str
    sku: str
    image_url: str | None


@pytest.fixture
def catalog():
    """Catalogue data through ``apps.catalog.services``: ``catalog.variant(price=..., stock=...)``."""
    from apps.catalog import selectors, services

    class Catalog:
        def variant(self, price="19.90", stock=10, *, active=True, image=True, attributes=None):
            n = next(_counter)
            images = [{"image_url": f"https://img.example/p{n}.jpg", "is_primary": True}] if image else []
            product = services.create_product(
                {
                    "sku": f"CART-{n}",
                    "name": f"Cart product {n}",
                    "description": "For cart tests",
                    "is_active": active,
                    "variants": [
                        {
                            "attributes": attributes if attributes is not None else {"color": "red", "size": "M"},
                            "price": Decimal(price),
                            "initial_stock_quantity": stock,
                        }
                    ],
                    "images": images,
                }
            )
            ((document,),) = list(selectors.product_documents([product.id]))
            variant_id = document["variants"][0]["id"]
            return Item(
                str(product.id),
                str(variant_id),
                document["name"],
                document["sku"],
                images and images[0]["image_url"] or None,
            )

        def set_price(self, item, price):
            services.update_variant(item.product_id, item.variant_id, {"price": Decimal(price)})

        def set_stock(self, item, quantity):
            current = selectors.variant_snapshots([item.variant_id])[item.variant_id].stock_quantity
            if quantity != current:
                services.adjust_stock(item.variant_id, quantity - current, "ADJUSTMENT", reason="test")

        def deactivate(self, item):
            services.update_product(item.product_id, {"is_active": False})

        def delete(self, item):
            services.delete_product(item.product_id)

    return Catalog()
