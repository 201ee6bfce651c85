"""50 buyers, 10 units: PostgreSQL row locks let exactly 10 through, and the ledger agrees."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum

from apps.catalog import services
from apps.catalog.models import StockMovement, Variant
from apps.catalog.tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_fifty_threads_take_exactly_the_ten_units(transactional_db):
    product = factories.product(variants=[{"attributes": {}, "price": Decimal("5.00"), "initial_stock_quantity": 10}])
    variant_id = factories.variant_of(product).id
    barrier = threading.Barrier(50)
    outcomes = []
    lock = threading.Lock()

    def buy():
        try:
            barrier.wait(timeout=30)
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

    threads = [threading.Thread(target=buy) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(set(outcomes)) == ["ok", "refused"], outcomes
    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == 40
    assert Variant.objects.get(id=variant_id).stock_quantity == 0
    movements = StockMovement.objects.filter(variant_id=variant_id)
    assert movements.aggregate(s=Sum("change_quantity"))["s"] == 0
    assert movements.filter(type="ORDER").count() == 10
