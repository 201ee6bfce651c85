"""The reconciler releases stock held for no live order, and only that."""

import json
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from apps.orders.models import Order
from apps.orders.reconcile import reconcile_reservations
from apps.orders.tests.conftest import guest_body, make_product, stock_of

pytestmark = pytest.mark.django_db


def test_orphans_and_dead_orders_are_released_live_orders_are_not(place):
    from apps.catalog.services import reserve_stock

    product = make_product(stock=20)
    orphan_id = uuid.uuid4()  # the process died between the reservation and the order
    reserve_stock([(product.variant_id, 3)], order_id=orphan_id)
    live = place(guest_body(product, quantity=2)).json()
    cancelled = place(guest_body(product, quantity=4)).json()
    Order.objects.filter(id=cancelled["id"]).update(status="CANCELLED")  # its release "failed"
    assert stock_of(product.variant_id) == 11

    # Too recent: a checkout may still be writing its order.
    assert reconcile_reservations(older_than_minutes=10)["released_orders"] == []
    assert stock_of(product.variant_id) == 11

    result = reconcile_reservations(older_than_minutes=0)
    assert sorted(result["released_orders"]) == sorted([str(orphan_id), cancelled["id"]])
    assert result["units"] == 7
    assert stock_of(product.variant_id) == 18
    # Idempotent: nothing left to release.
    assert reconcile_reservations(older_than_minutes=0)["released_orders"] == []
    assert stock_of(product.variant_id) == 18
    assert Order.objects.get(id=live["id"]).status == "PENDING"


def test_command_and_task(place, monkeypatch):
    from django.utils import timezone

    from apps.catalog.services import reserve_stock
    from apps.orders.tasks import reconcile_reservations as task

    product = make_product(stock=5)
    reserve_stock([(product.variant_id, 1)], order_id=uuid.uuid4())
    out = StringIO()
    # The command refuses less than a minute (a checkout in flight): its run comes 2 minutes later.
    later = timezone.now() + timedelta(minutes=2)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        call_command("reconcile_reservations", "--older-than-minutes", "1", stdout=out)
    assert json.loads(out.getvalue())["units"] == 1
    reserve_stock([(product.variant_id, 2)], order_id=uuid.uuid4())
    assert task.delay(older_than_minutes=0).get()["units"] == 2
    assert stock_of(product.variant_id) == 5


def test_a_sale_entered_by_hand_with_an_order_id_is_not_given_back(place):
    """The adjust API lets staff record an ORDER movement with an order id of their own (a phone
    sale in the till system): no order of ours has that id, yet it is a sale, not a reservation
    a crashed checkout left behind. The reconciler used to give those units back."""
    from apps.catalog.services import adjust_stock, reserve_stock

    product = make_product(stock=10)
    adjust_stock(product.variant_id, -4, "ORDER", reason="Phone order 4411", related_order_id=uuid.uuid4())
    orphan_id = uuid.uuid4()
    reserve_stock([(product.variant_id, 1)], order_id=orphan_id)  # a checkout that died
    assert stock_of(product.variant_id) == 5

    result = reconcile_reservations(older_than_minutes=0)
    assert result["released_orders"] == [str(orphan_id)]
    assert stock_of(product.variant_id) == 6
