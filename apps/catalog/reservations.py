"""Public read for the orders' reconciler: which orders still hold stock.

(Added by the orders engineer as a separate module so as not to touch files in progress; it only
reads the stock ledger. It belongs beside ``variant_snapshots`` in ``selectors.py`` if preferred.)
"""

from django.db.models import Count, Min, Q, Sum

from apps.catalog.models import StockMovement, StockMovementType
from ecommerce.db import alias_for


def open_reservations(*, placed_after=None, placed_before=None, limit=1000) -> dict[str, int]:
    """``{order_id: units still held}`` for orders whose ``ORDER`` movements are not (fully)
    given back by ``ORDER_CANCELLED`` ones, reserved by a checkout (``reserve_stock``; a movement
    entered by hand is a sale) and first reserved within ``[placed_after, placed_before)``.
    One aggregate query over the window's movements."""
    reserved = Q(type=StockMovementType.ORDER, is_reservation=True)
    given_back = Q(type=StockMovementType.ORDER_CANCELLED, change_quantity__gt=0)
    rows = StockMovement.objects.using(alias_for("catalog")).filter(
        reserved | given_back, related_order_id__isnull=False
    )
    if placed_after is not None:
        rows = rows.filter(timestamp__gte=placed_after)
    # Only orders a checkout reserved for, and only what it reserved (as ``release_stock``
    # counts): a hand-entered ORDER movement is a sale, never "held".
    rows = (
        rows.values("related_order_id")
        .annotate(
            net=Sum("change_quantity"),
            placed=Min("timestamp"),
            reservations=Count("id", filter=Q(is_reservation=True)),
        )
        .filter(net__lt=0, reservations__gt=0)
    )
    if placed_before is not None:
        rows = rows.filter(placed__lt=placed_before)
    rows = rows.order_by("placed")[:limit]
    return {str(row["related_order_id"]): -row["net"] for row in rows}
