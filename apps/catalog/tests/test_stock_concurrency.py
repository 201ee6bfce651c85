"""50 buyers, 10 units: PostgreSQL row locks let exactly 10 through, and the ledger agrees."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import OperationalError, connections
from django.db.models import Sum

from apps.catalog import services
from apps.catalog.models import StockMovement, Variant
from apps.catalog.tests import factories
from ecommerce.db import alias_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

BUYERS = 50


def connect_with_patience(alias, seconds=60):
    """Open this thread's connection before the race (the server is shared: it may be full for a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            connections[alias].ensure_connection()
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            connections[alias].close()
            time.sleep(0.2)


def test_fifty_threads_take_exactly_the_ten_units(transactional_db, settings):
    # The race is about stock: outbox rows are written as usual, but no in-process consumer runs
    # (each would open more connections to the search and orders databases).
    settings.EVENTS_TRANSPORT = "kafka"
    product = factories.product(variants=[{"attributes": {}, "price": Decimal("5.00"), "initial_stock_quantity": 10}])
    variant_id = factories.variant_of(product).id
    alias = alias_for("catalog")
    barrier = threading.Barrier(BUYERS)
    outcomes = []
    lock = threading.Lock()

    def buy():
        result = "not started"
        try:
            connect_with_patience(alias)
            barrier.wait(timeout=90)
            services.reserve_stock([(variant_id, 1)], order_id=uuid.uuid4())
            result = "ok"
        except services.InsufficientStock:
            result = "refused"
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
            result = repr(exc)
        finally:
            connections.close_all()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=buy) for _ in range(BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert sorted(set(outcomes)) == ["ok", "refused"], outcomes
    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == BUYERS - 10
    assert Variant.objects.get(id=variant_id).stock_quantity == 0
    movements = StockMovement.objects.filter(variant_id=variant_id)
    assert movements.aggregate(s=Sum("change_quantity"))["s"] == 0
    assert movements.filter(type="ORDER").count() == 10
