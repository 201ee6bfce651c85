"""Product document versions: every event about a product carries a version that strictly
increases in commit order, and concurrent writers of one product publish consistent documents.

The PostgreSQL tests run real transactions in threads (READ COMMITTED, row locks)."""

import random
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connections, transaction

from apps.catalog import republish, services
from apps.catalog.models import Product, Variant
from apps.catalog.tests import factories
from apps.catalog.tests.test_stock_concurrency import connect_with_patience
from apps.events.models import OutboxEvent
from ecommerce.db import alias_for
from ecommerce.errors import ApiError

STOCK = {"attributes": {}, "price": Decimal("5.00")}


def product_events(product_id):
    rows = OutboxEvent.objects.using(alias_for("catalog")).filter(aggregate_id=str(product_id)).order_by("id")
    return list(rows.values_list("event_type", "payload"))


def test_every_change_publishes_a_strictly_higher_version(db):
    category = factories.category()
    product = factories.product(
        categories=[category],
        variants=[{**STOCK, "initial_stock_quantity": 5}, {**STOCK, "initial_stock_quantity": 0}],
    )
    a, b = Variant.objects.filter(product=product).order_by("created_at", "id")
    order_id = uuid.uuid4()
    changes = [
        lambda: services.update_product(product.id, {"name": "Renamed"}),
        lambda: services.reserve_stock([(a.id, 2)], order_id=order_id),
        lambda: services.adjust_stock(b.id, 4, "ADMIN_UPDATE"),
        lambda: services.release_stock(order_id),
        lambda: services.update_variant(product.id, b.id, {"price": Decimal("7.00")}),
        lambda: services.add_images(product.id, [{"image_url": "/images/images/x.png", "is_primary": True}]),
        lambda: services.create_variant(product.id, {**STOCK, "initial_stock_quantity": 1}),
        lambda: services.detach_categories(product.id, [category.id]),
        lambda: services.attach_categories(product.id, [category.id]),
        lambda: services.update_category(category.id, {"name": "Renamed category"}),
        republish.run_pending,  # what the commit of the rename starts
        lambda: services.delete_product(product.id),
    ]
    for change in changes:
        change()
    events = product_events(product.id)
    assert [t for t, _ in events] == ["PRODUCT_CREATED", *["PRODUCT_UPDATED"] * 10, "PRODUCT_DELETED"]
    versions = [payload["version"] for _, payload in events]
    assert versions == sorted(set(versions)), versions  # strictly increasing
    assert versions[0] == 1


def test_the_document_carries_the_stored_version_and_save_never_writes_it_back(db):
    product = factories.product()
    stale = Product.objects.get(id=product.id)  # read before the next event
    services.adjust_stock(Variant.objects.get(product=product).id, 1, "ADMIN_UPDATE")
    assert Product.objects.get(id=product.id).version == 2
    stale.name = "Edited from a stale instance"
    stale.save()  # e.g. an admin form read before the stock change
    assert Product.objects.get(id=product.id).version == 2
    (_, created), (_, adjusted) = product_events(product.id)
    assert (created["version"], adjusted["version"]) == (1, 2)
    from apps.catalog.selectors import product_documents

    ((document,),) = product_documents([product.id])
    assert document["version"] == 2


def test_a_refused_change_does_not_move_the_version(db):
    product = factories.product(variants=[{**STOCK, "initial_stock_quantity": 1}])
    variant = Variant.objects.get(product=product)
    with pytest.raises(services.InsufficientStock):
        services.reserve_stock([(variant.id, 2)], order_id=uuid.uuid4())
    assert Product.objects.get(id=product.id).version == 1


# --- PostgreSQL: real concurrency ----------------------------------------------------------------


def _join(threads, timeout=120):
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"


def _run(threads, timeout=120):
    for t in threads:
        t.start()
    _join(threads, timeout)


def reserve_two_variants_at_once(a_id, b_id):
    """Checkout 1 takes 1 unit of variant ``a_id`` and holds its transaction open (after the
    stock UPDATE and its document); checkout 2 takes 2 units of ``b_id`` meanwhile and must
    queue until checkout 1 commits (deterministic: checkout 1 waits for a signal to commit)."""
    alias = alias_for("catalog")
    first_written, release_first, second_started = threading.Event(), threading.Event(), threading.Event()
    second_done = threading.Event()
    errors = []

    def first():
        try:
            connect_with_patience(alias)
            with transaction.atomic(using=alias):
                services.reserve_stock([(a_id, 1)], order_id=uuid.uuid4())
                first_written.set()
                assert release_first.wait(timeout=60)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
            first_written.set()
        finally:
            connections.close_all()

    def second():
        try:
            connect_with_patience(alias)
            assert first_written.wait(timeout=60)
            second_started.set()
            services.reserve_stock([(b_id, 2)], order_id=uuid.uuid4())
            second_done.set()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    try:
        assert second_started.wait(timeout=60)
        # Checkout 2 queues on the product's row lock while checkout 1 is open.
        assert not second_done.wait(timeout=1.0), "checkout 2 did not wait for checkout 1"
    finally:
        release_first.set()
        _join(threads)
    assert errors == []


@pytest.mark.postgres
def test_two_checkouts_of_two_variants_of_one_product_publish_consistent_documents(transactional_db, settings):
    """Before versions, checkout 2 locked only its variant, read A's *old* stock and committed a
    document that, applied last, left A wrong in the index. Now checkout 2 waits for checkout 1's
    product lock, then reads A's committed stock."""
    settings.EVENTS_TRANSPORT = "kafka"  # outbox rows only: no in-process consumer
    product = factories.product(variants=[{**STOCK, "initial_stock_quantity": 10}] * 2)
    a, b = Variant.objects.filter(product=product).order_by("created_at", "id")
    reserve_two_variants_at_once(a.id, b.id)
    (_, created), (_, one), (_, two) = product_events(product.id)
    stock = {str(v.id): v.stock_quantity for v in Variant.objects.filter(product=product)}
    assert stock == {str(a.id): 9, str(b.id): 8}
    assert created["version"] < one["version"] < two["version"]
    assert {v["id"]: v["stockQuantity"] for v in one["variants"]} == {str(a.id): 9, str(b.id): 10}
    # The later document shows both changes: applied last (by version), the index is right.
    assert {v["id"]: v["stockQuantity"] for v in two["variants"]} == stock
    assert Product.objects.get(id=product.id).version == two["version"]


@pytest.mark.postgres
@pytest.mark.slow
def test_checkouts_and_product_edits_at_once_never_deadlock(transactional_db, settings):
    """Checkouts over several products (lines in random order), releases, stock adjustments,
    product, variant, image and category edits, all at once for a few seconds: the only refusals
    are 409s (stock), never a deadlock; versions and documents stay consistent."""
    settings.EVENTS_TRANSPORT = "kafka"
    category = factories.category()
    products = [
        factories.product(categories=[category], variants=[{**STOCK, "initial_stock_quantity": 30}] * 3)
        for _ in range(3)
    ]
    variants = {p.id: list(Variant.objects.filter(product=p).order_by("id")) for p in products}
    all_variants = [v for vs in variants.values() for v in vs]
    alias = alias_for("catalog")
    workers, rounds = 8, 15
    barrier = threading.Barrier(workers)
    outcomes, lock = [], threading.Lock()

    def work(n):
        rng = random.Random(n)
        connect_with_patience(alias)
        barrier.wait(timeout=60)
        for _ in range(rounds):
            kind = rng.choice(["checkout", "checkout", "checkout", "edit", "variant", "adjust", "image", "category"])
            try:
                if kind == "checkout":
                    lines = [(v.id, rng.randint(1, 3)) for v in rng.sample(all_variants, rng.randint(1, 4))]
                    order_id = uuid.uuid4()
                    services.reserve_stock(lines, order_id=order_id)
                    if rng.random() < 0.3:
                        services.release_stock(order_id)
                elif kind == "edit":
                    services.update_product(rng.choice(products).id, {"name": f"Edit {rng.random()}"})
                elif kind == "variant":
                    product = rng.choice(products)
                    variant = rng.choice(variants[product.id])
                    services.update_variant(product.id, variant.id, {"price": Decimal(rng.randint(1, 99))})
                elif kind == "adjust":
                    services.adjust_stock(rng.choice(all_variants).id, rng.choice([-2, 5]), "ADJUSTMENT")
                elif kind == "image":
                    services.add_images(rng.choice(products).id, [{"image_url": "/images/images/s.png"}])
                else:
                    services.update_category(category.id, {"name": f"Category {rng.random()}"})
                result = "ok"
            except ApiError as exc:  # 409 InsufficientStock, 400 from adjust below zero
                result = f"{exc.status_code}"
            except Exception as exc:  # noqa: BLE001 - a deadlock or anything else fails the test
                result = repr(exc)
            with lock:
                outcomes.append(result)
        connections.close_all()

    _run([threading.Thread(target=work, args=(n,)) for n in range(workers)], timeout=300)
    unexpected = [o for o in outcomes if o not in ("ok", "409", "400")]
    assert unexpected == [], unexpected
    assert len(outcomes) == workers * rounds
    for product in products:
        events = product_events(product.id)
        versions = [payload["version"] for _, payload in events]
        assert versions == sorted(set(versions)), versions
        final = events[-1][1]
        assert final["version"] == Product.objects.get(id=product.id).version
        assert {v["id"]: v["stockQuantity"] for v in final["variants"]} == {
            str(v.id): v.stock_quantity for v in Variant.objects.filter(product=product)
        }
