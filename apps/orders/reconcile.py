"""Releases stock that is held for no live order (split databases only can leave such stock).

In the split shape the checkout reserves stock (committed in the catalogue's database) before it
writes the order (orders' database). If the process dies between the two, or the compensation
``release_stock`` itself fails, units stay taken for an order that does not exist; likewise a
cancellation whose release failed after the status committed. This job asks the catalogue for
the orders that still hold stock (reserved more than ``older_than`` ago, so a checkout in flight
is never touched) and releases those whose order is missing, cancelled or failed.
``release_stock`` is idempotent, so running the job twice, or beside a late compensation, is safe.
"""

import logging
import uuid
from datetime import timedelta

from django.utils import timezone

from apps.orders.models import Order, OrderStatus
from ecommerce.db import alias_for

logger = logging.getLogger(__name__)

DEAD_STATUSES = {OrderStatus.CANCELLED, OrderStatus.FAILED}


def reconcile_reservations(*, older_than_minutes=10, window_hours=72, limit=1000):
    """Returns ``{"checked": n, "released_orders": [ids], "units": n}``."""
    from apps.catalog.reservations import open_reservations
    from apps.catalog.services import release_stock

    now = timezone.now()
    held = open_reservations(
        placed_after=now - timedelta(hours=window_hours),
        placed_before=now - timedelta(minutes=older_than_minutes),
        limit=limit,
    )
    order_ids = [uuid.UUID(str(order_id)) for order_id in held]
    statuses = dict(Order.objects.using(alias_for("orders")).filter(id__in=order_ids).values_list("id", "status"))
    released, units = [], 0
    for order_id in order_ids:
        status = statuses.get(order_id)
        if status is not None and status not in DEAD_STATUSES:
            continue
        reason = "Reconciler: no such order" if status is None else f"Reconciler: order {status.lower()}"
        try:
            units += release_stock(order_id, reason=reason)
            released.append(str(order_id))
        except Exception:  # noqa: BLE001 - one bad row must not stop the others
            logger.exception("reconciler could not release stock", extra={"order_id": str(order_id)})
    if released:
        logger.warning("reconciler released stock", extra={"orders": released, "units": units})
    return {"checked": len(order_ids), "released_orders": released, "units": units}
