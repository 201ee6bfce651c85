"""Checkout of a cart (``cartId``): lines from the cart, prices from the catalogue, cart cleared."""

import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from django.db import connections, transaction

from apps.orders.models import Order
from apps.orders.tests.conftest import guest_body, make_product, movements_of, stock_of
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def _wait_until(condition):
    """Poll ``condition`` (a race test's threads reaching a held lock) for up to a minute."""
    for _ in range(6000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the checkouts never reached the held lock")


def _two_checkouts_at_a_held_orders_table(cart_id, waiting):
    """Hold the orders table locked, start one checkout of ``cart_id``, then a second once
    ``waiting()`` counts the first at a lock, release when both wait (or the second is done).
    Returns ``{"first" | "second": (status, body)}``."""
    from rest_framework.test import APIClient

    using = alias_for("orders")
    locked, release = threading.Event(), threading.Event()
    results = {}

    def hold_orders_table():
        try:
            with transaction.atomic(using=using), connections[using].cursor() as cursor:
                cursor.execute(f'LOCK TABLE "{Order._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')
                locked.set()
                release.wait(120)
        finally:
            connections.close_all()

    def checkout(name):
        try:
            response = APIClient().post("/orders", _body(cart_id), format="json")
            results[name] = (response.status_code, response.json())
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_orders_table)
    first, second = (threading.Thread(target=checkout, args=(name,)) for name in ("first", "second"))
    holder.start()
    try:
        assert locked.wait(60)
        first.start()
        _wait_until(lambda: waiting() == 1)  # the first checkout holds the cart's lines
        second.start()
        _wait_until(lambda: not second.is_alive() or waiting() == 2)
    finally:
        release.set()
        holder.join(120)
        first.join(120)
        second.join(120)
    return results


@pytest.fixture(autouse=True)
def _own_cart_cache(settings, tmp_path):
    """The embedded file cache is one directory for every xdist worker, and each test clears it:
    give these tests their own (Redis, when configured, is already one database per worker)."""
    carts = settings.CACHES["carts"]
    if carts["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES = {**settings.CACHES, "carts": {**carts, "LOCATION": str(tmp_path / "carts")}}


def _cart_with(*lines, user=None):
    from apps.cart import services as carts

    cart, _ = carts.create_cart(user=user)
    for product, quantity in lines:
        carts.add_item(cart["id"], user, variant_id=product.variant_id, quantity=quantity, product_id=product.id)
    return cart["id"]


def _body(cart_id, **overrides):
    body = guest_body(SimpleNamespace(id="", variant_id=""), cartId=cart_id, **overrides)
    body.pop("items")
    return body


def test_guest_checks_out_a_cart_and_it_is_cleared(place):
    from apps.cart.services import get_cart

    mug, pot = make_product(price="8.00", stock=5), make_product(price="20.00", stock=5)
    cart_id = _cart_with((mug, 2), (pot, 1))
    response = place(_body(cart_id))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert sorted((i["variantId"], i["quantity"]) for i in data["items"]) == sorted(
        [(mug.variant_id, 2), (pot.variant_id, 1)]
    )
    assert data["totalAmount"] == "45.18"
    assert stock_of(mug.variant_id) == 3 and stock_of(pot.variant_id) == 4
    assert get_cart(cart_id) is None


def test_a_customer_checks_out_their_own_cart(place, client_as):
    client, user = client_as("Customer")
    mug = make_product()
    cart_id = _cart_with((mug, 1), user=user)
    response = place(_body(cart_id, guestEmail=None, guestName=None), client=client)
    assert response.status_code == 201, response.json()
    assert response.json()["userId"] == str(user.id)


def test_someone_elses_cart_does_not_exist(place, make_user):
    owner = make_user()
    mug = make_product()
    cart_id = _cart_with((mug, 1), user=owner)
    assert place(_body(cart_id)).status_code == 404
    assert stock_of(mug.variant_id) == 10


def test_unknown_or_empty_cart(place):
    assert place(_body(str(uuid.uuid4()))).status_code == 404
    empty = _cart_with()
    assert place(_body(empty)).status_code == 400
    assert Order.objects.count() == 0


def test_a_failed_cart_checkout_keeps_the_cart(place):
    from apps.cart.services import get_cart
    from apps.catalog.services import adjust_stock

    mug = make_product(stock=2)
    cart_id = _cart_with((mug, 2))
    adjust_stock(mug.variant_id, -1, "ADMIN_UPDATE", reason="broken")
    assert place(_body(cart_id)).status_code == 409
    assert get_cart(cart_id) is not None


def test_a_cart_claimed_by_a_checkout_in_flight_is_not_ordered_again(place):
    """While one checkout holds the cart, a second one (double click, second tab) gets 409 and
    takes nothing; once the first gives the cart back, the cart can be ordered."""
    from apps.cart.services import claim_for_checkout, get_cart, release_checkout_claim

    mug = make_product(stock=10)
    cart_id = _cart_with((mug, 3))
    in_flight = uuid.uuid4()
    assert claim_for_checkout(cart_id, None, in_flight)["id"] == cart_id

    response = place(_body(cart_id))
    assert response.status_code == 409, response.json()
    assert response.json()["message"] == "This cart is already being checked out."
    assert stock_of(mug.variant_id) == 10 and Order.objects.count() == 0
    assert get_cart(cart_id) is not None

    release_checkout_claim(cart_id, in_flight)
    assert place(_body(cart_id)).status_code == 201
    assert stock_of(mug.variant_id) == 7 and get_cart(cart_id) is None


def test_a_lapsed_claim_does_not_block_the_cart(place, settings):
    from apps.cart.services import claim_for_checkout

    settings.CART_CHECKOUT_CLAIM_SECONDS = -1  # the claim of a crashed process, already lapsed
    mug = make_product(stock=10)
    cart_id = _cart_with((mug, 1))
    claim_for_checkout(cart_id, None, uuid.uuid4())
    assert place(_body(cart_id)).status_code == 201


def test_a_failed_cart_checkout_gives_the_cart_back(place):
    from apps.catalog.services import adjust_stock

    mug = make_product(stock=2)
    cart_id = _cart_with((mug, 2))
    adjust_stock(mug.variant_id, -1, "ADMIN_UPDATE", reason="broken")
    assert place(_body(cart_id)).status_code == 409
    adjust_stock(mug.variant_id, 1, "ADMIN_UPDATE", reason="found")
    assert place(_body(cart_id)).status_code == 201  # not "already being checked out"
    assert stock_of(mug.variant_id) == 0


def test_claiming_someone_elses_cart_finds_nothing_and_leaves_it_usable(place, client_as, make_user):
    from apps.cart.services import claim_for_checkout

    client, owner = client_as("Customer")
    mug = make_product()
    cart_id = _cart_with((mug, 1), user=owner)
    assert claim_for_checkout(cart_id, None, uuid.uuid4()) is None
    assert claim_for_checkout(cart_id, make_user().id, uuid.uuid4()) is None
    response = place(_body(cart_id, guestEmail=None, guestName=None), client=client)
    assert response.status_code == 201, response.json()


@pytest.mark.postgres
@pytest.mark.slow
def test_one_cart_checked_out_twice_at_once_is_ordered_once(transactional_db):
    """Two checkouts of one cart at the same time (a double click): made deterministic by holding
    the orders table locked, so the first checkout waits with the cart's lines in hand while the
    second one arrives. Before the cart was claimed, both waited there and both wrote an order,
    taking the stock twice."""
    from apps.cart.services import get_cart

    mug = make_product(stock=10)
    cart_id = _cart_with((mug, 3))
    using = alias_for("orders")
    table = Order._meta.db_table

    def waiting_on_orders_table():
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [table],
            )
            return cursor.fetchone()[0]

    landed = _two_checkouts_at_a_held_orders_table(cart_id, waiting_on_orders_table)
    results = {name: status for name, (status, _) in landed.items()}

    assert results == {"first": 201, "second": 409}
    assert Order.objects.count() == 1
    assert stock_of(mug.variant_id) == 7
    assert get_cart(cart_id) is None


def _raw_cart(cart_id):
    from apps.cart.services import cart_key
    from apps.cart.store import get_store

    return get_store().read(cart_key(cart_id))


def _put_raw_cart(cart_id, document):
    from apps.cart.services import cart_key
    from apps.cart.store import get_store

    key = cart_key(cart_id)
    get_store().atomic([key], lambda values: ({key: document}, None))


def _outbox_rows():
    from apps.events.models import OutboxEvent

    return sum(OutboxEvent.objects.using(alias).count() for alias in {alias_for("orders"), alias_for("catalog")})


def _as_a_dead_checkout_left_it(cart_id):
    """The cart document as a checkout that died after its order committed leaves it behind:
    claimed, lines and all (the cart is deleted only after the commit)."""
    from apps.cart.services import claim_for_checkout, release_checkout_claim

    probe = uuid.uuid4()
    claim_for_checkout(cart_id, None, probe)
    document = _raw_cart(cart_id)
    release_checkout_claim(cart_id, probe)
    return document


def test_a_cart_left_behind_by_a_checkout_that_died_is_not_ordered_twice(place):
    """The process died between the order's commit and the cart's deletion; once the claim
    lapses the cart is there again. Checking it out again answers 409 and writes nothing: no
    second order, no stock taken, no event."""
    from apps.cart.services import get_cart

    mug = make_product(stock=10)
    cart_id = _cart_with((mug, 3))
    left_behind = _as_a_dead_checkout_left_it(cart_id)
    first = place(_body(cart_id))
    assert first.status_code == 201, first.json()
    left_behind["checkout"]["until"] = time.time() - 1  # the dead checkout's claim has lapsed
    _put_raw_cart(cart_id, left_behind)
    movements, outbox = len(movements_of(mug.variant_id)), _outbox_rows()

    second = place(_body(cart_id))

    assert second.status_code == 409, second.json()
    assert second.json() == {"message": "This cart has already been ordered.", "orderId": first.json()["id"]}
    assert Order.objects.count() == 1
    assert stock_of(mug.variant_id) == 7
    assert len(movements_of(mug.variant_id)) == movements and _outbox_rows() == outbox
    # The dead checkout's last step, done now: the shop's next read starts a new cart.
    assert get_cart(cart_id) is None


def test_a_cart_id_used_again_after_its_order_is_a_new_cart(place, api_client):
    """A cart id outlives its cart: GET /carts/<id> of an ordered (deleted) cart creates an empty
    cart under the same id, which the shop then fills and orders. That is another cart."""
    mug = make_product(stock=10)
    cart_id = _cart_with((mug, 1))
    assert place(_body(cart_id)).status_code == 201
    assert api_client.get(f"/carts/{cart_id}").status_code == 201
    added = api_client.post(
        f"/carts/{cart_id}/items", {"productId": mug.id, "variantId": mug.variant_id, "quantity": 2}, format="json"
    )
    assert added.status_code == 200, added.json()

    again = place(_body(cart_id))

    assert again.status_code == 201, again.json()
    assert Order.objects.count() == 2
    assert stock_of(mug.variant_id) == 7


@pytest.mark.postgres
@pytest.mark.slow
def test_two_checkouts_of_one_cart_past_its_claim_write_one_order(transactional_db, settings):
    """The claim is not what keeps a cart from being ordered twice: a checkout can outlive it
    (here every claim lapses at once). Both checkouts pass the claim and the "already ordered"
    check, then wait at the orders table (held locked); the database lets one order through, the
    other gets 409 and keeps no stock (split shape: its reservation is compensated)."""
    settings.CART_CHECKOUT_CLAIM_SECONDS = -1
    mug = make_product(stock=10)
    cart_id = _cart_with((mug, 3))
    using = alias_for("orders")
    databases = sorted({connections[a].settings_dict["NAME"] for a in (using, alias_for("catalog"))})

    def waiting():
        """Backends of this test's databases waiting for a lock (the orders table, or in the
        shared shape the product row the first checkout's reservation holds)."""
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = ANY(%s)",
                [databases],
            )
            return cursor.fetchone()[0]

    results = _two_checkouts_at_a_held_orders_table(cart_id, waiting)

    statuses = sorted(status for status, _ in results.values())
    assert statuses == [201, 409], results
    (order,) = [body for status, body in results.values() if status == 201]
    (refusal,) = [body for status, body in results.values() if status == 409]
    assert refusal == {"message": "This cart has already been ordered.", "orderId": order["id"]}
    assert Order.objects.count() == 1
    assert stock_of(mug.variant_id) == 7
