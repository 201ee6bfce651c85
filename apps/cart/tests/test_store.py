"""The cart store: real keys and TTLs in Redis, no lost update under concurrent writers (threads
against real Redis and against the file cache), and a clear 503 when Redis is unreachable."""

import threading
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.db import connections

from apps.cart import services
from apps.cart.store import CacheCartStore, CartStoreUnavailable, RedisCartStore, get_store
from apps.cart.tests.conftest import redis_cache_settings

TTL = 7 * 24 * 3600


# --- keys and TTL ----------------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db
def test_redis_key_is_cart_id_with_the_full_ttl_refreshed_on_every_access(redis_backend, api_client, catalog):
    assert isinstance(redis_backend, RedisCartStore)
    raw = redis_backend.client
    cart = api_client.post("/carts").json()
    key = f"cart:{cart['id']}"
    assert raw.exists(key) == 1  # the real key, without Django's ":1:" version prefix
    assert TTL - 5 <= raw.ttl(key) <= TTL

    for access in (
        lambda: api_client.get(f"/carts/{cart['id']}"),
        lambda: api_client.post(f"/carts?cartId={cart['id']}"),
        lambda: api_client.post(
            f"/carts/{cart['id']}/items", {"variantId": catalog.variant().variant_id, "quantity": 1}, format="json"
        ),
        lambda: api_client.delete(f"/carts/{cart['id']}/items"),
        lambda: services.get_cart(cart["id"]),
    ):
        raw.expire(key, 100)
        access()
        assert TTL - 5 <= raw.ttl(key) <= TTL


@pytest.mark.redis
@pytest.mark.django_db
def test_redis_user_pointer_has_the_ttl_and_is_refreshed_with_the_cart(redis_backend, client_as):
    client, user = client_as("Customer")
    cart = client.post("/carts").json()
    raw = redis_backend.client
    pointer = f"cart:user:{user.id}"
    assert raw.get(pointer) == f'"{cart["id"]}"'.encode()
    assert TTL - 5 <= raw.ttl(pointer) <= TTL
    raw.expire(pointer, 100)
    client.get(f"/carts/{cart['id']}")
    assert TTL - 5 <= raw.ttl(pointer) <= TTL


@pytest.mark.redis
@pytest.mark.django_db
def test_ttl_follows_the_setting(redis_backend, api_client, settings):
    settings.CART_TTL_SECONDS = 60
    cart = api_client.post("/carts").json()
    assert 55 <= redis_backend.client.ttl(f"cart:{cart['id']}") <= 60


@pytest.mark.django_db
def test_file_cache_ttl_is_set_and_refreshed(file_backend, api_client):
    store = file_backend
    assert isinstance(store, CacheCartStore)
    cart = api_client.post("/carts").json()
    key = f"cart:{cart['id']}"
    assert TTL - 5 <= store.ttl(key) <= TTL
    caches["carts"].touch(key, 100)
    assert store.ttl(key) <= 100
    api_client.get(f"/carts/{cart['id']}")
    assert TTL - 5 <= store.ttl(key) <= TTL


@pytest.mark.django_db
def test_an_expired_cart_is_gone(cart_backend, api_client, settings):
    settings.CART_TTL_SECONDS = 1
    cart = api_client.post("/carts").json()
    key = f"cart:{cart['id']}"
    import time

    time.sleep(2.1)
    assert get_store().read(key) is None


# --- concurrent writers ------------------------------------------------------------------------------


def _run_threads(count, target):
    errors = []
    barrier = threading.Barrier(count)

    def run(n):
        try:
            barrier.wait(timeout=10)
            target(n)
        except Exception as exc:  # noqa: BLE001 - collected and reported by the test
            errors.append(exc)
        finally:
            for conn in connections.all(initialized_only=True):
                conn.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def _increments(store, key, threads=8, each=25):
    def increment(values):
        doc = values[key] or {"n": 0, "by": []}
        doc["n"] += 1
        return {key: doc}, doc["n"]

    def worker(n):
        for _ in range(each):
            store.atomic([key], increment)

    _run_threads(threads, worker)
    return store.read(key)["n"]


@pytest.mark.redis
def test_redis_store_loses_no_concurrent_update(redis_backend):
    assert _increments(redis_backend, f"cart:{uuid.uuid4()}") == 8 * 25


def test_file_cache_store_loses_no_concurrent_update(file_backend):
    assert _increments(file_backend, f"cart:{uuid.uuid4()}", threads=6, each=10) == 60


def test_without_the_lock_updates_would_be_lost(file_backend):
    """The race test can fail: a plain read-modify-write under the same load loses updates."""
    cache = file_backend.cache
    cache.set("counter", 0)

    def worker(n):
        for _ in range(20):
            value = cache.get("counter")
            threading.Event().wait(0.001)
            cache.set("counter", value + 1)

    _run_threads(6, worker)
    assert cache.get("counter") < 120


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_to_one_cart_all_count(redis_backend, catalog):
    """Eight shoppers' requests on one cart at once (two variants): every unit is counted."""
    first, second = catalog.variant(stock=500), catalog.variant(stock=500)
    cart_id = str(uuid.uuid4())

    def worker(n):
        for _ in range(5):
            item = first if n % 2 else second
            services.add_item(cart_id, None, variant_id=item.variant_id, quantity=1)

    _run_threads(8, worker)
    cart = services.get_cart(cart_id)
    quantities = {i["variantId"]: i["quantity"] for i in cart["items"]}
    assert quantities == {first.variant_id: 20, second.variant_id: 20}
    assert cart["itemCount"] == 40


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_never_exceed_the_stock(redis_backend, catalog):
    item = catalog.variant(stock=7)
    cart_id = str(uuid.uuid4())
    outcomes = []

    def worker(n):
        try:
            services.add_item(cart_id, None, variant_id=item.variant_id, quantity=1)
            outcomes.append("ok")
        except services.Conflict:
            outcomes.append("409")

    _run_threads(10, worker)
    assert outcomes.count("ok") == 7 and outcomes.count("409") == 3
    assert services.get_cart(cart_id)["items"][0]["quantity"] == 7


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_merge_every_guest_cart_into_one(redis_backend, catalog):
    """Four devices of one user log in at once, each with its own guest cart: nothing is lost."""
    # The service needs only the signed-in user's id (a user row would not survive the flushes
    # of earlier transactional tests without its seeded role).
    user = SimpleNamespace(id=uuid.uuid4(), is_authenticated=True)
    items = [catalog.variant(stock=100) for _ in range(4)]
    guests = []
    for item in items:
        guest = str(uuid.uuid4())
        services.add_item(guest, None, variant_id=item.variant_id, quantity=2)
        guests.append(guest)
    results = {}

    def worker(n):
        results[n] = services.associate(guests[n], user)

    _run_threads(4, worker)
    pointer = redis_backend.read(f"cart:user:{user.id}")
    final = services.get_cart(pointer)
    assert final["userId"] == str(user.id)
    assert sorted(i["variantId"] for i in final["items"]) == sorted(i.variant_id for i in items)
    assert all(i["quantity"] == 2 for i in final["items"])
    # Every other guest cart was merged and deleted.
    assert [g for g in guests if services.get_cart(g) is not None] == [pointer]


# --- Redis down -------------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The carts cache pointed at a closed port (nothing listens on 127.0.0.1:1)."""
    settings.CACHES = {**settings.CACHES, "carts": redis_cache_settings("redis://127.0.0.1:1/0")}
    yield


@pytest.mark.django_db
def test_cart_routes_answer_503_when_redis_is_down(redis_down, api_client, client_as):
    cart_id = str(uuid.uuid4())
    expected = {"message": "Cart service temporarily unavailable."}
    client, _ = client_as("Customer")
    calls = [
        lambda: api_client.post("/carts"),
        lambda: api_client.get(f"/carts/{cart_id}"),
        lambda: api_client.post(
            f"/carts/{cart_id}/items", {"variantId": str(uuid.uuid4()), "quantity": 1}, format="json"
        ),
        lambda: api_client.put(f"/carts/{cart_id}/items/{uuid.uuid4()}", {"quantity": 1}, format="json"),
        lambda: api_client.delete(f"/carts/{cart_id}/items/{uuid.uuid4()}"),
        lambda: api_client.delete(f"/carts/{cart_id}/items"),
        lambda: api_client.delete(f"/carts/{cart_id}"),
        lambda: client.post("/carts/associate", {"cartId": cart_id}, format="json"),
    ]
    for call in calls:
        response = call()
        assert response.status_code == 503, response.content
        assert response.json() == expected
    with pytest.raises(CartStoreUnavailable):
        services.get_cart(cart_id)


@pytest.mark.django_db
def test_the_rest_of_the_api_works_when_redis_is_down(redis_down, client_as):
    assert get_store().__class__ is RedisCartStore
    client, _ = client_as("Customer")
    assert client.get("/health").status_code == 200
    assert client.get("/auth/me").status_code == 200
