"""Orders as the wire's JSON (the contract's EnrichedOrder), built by hand.

Every order answer (checkout, my orders, the staff list, detail, status change, guest lookup)
is built here. ``OrderOutput`` stays the documented shape (OpenAPI schema); going through it
cost a deep copy of its fields per order and per list of lines, about a tenth of a checkout's
CPU in-process (bench/README.md). ``tests/test_rendering.py`` checks that both give the same
JSON, masked or not.
"""

from decimal import Decimal

from apps.orders.api.serializers import mask_order

CENT = Decimal("0.01")


def _money(value):
    return None if value is None else f"{Decimal(value).quantize(CENT):f}"


def _iso(value):
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _text(value):
    return None if value is None else str(value)


def _line(item, products):
    copy = products.get(item.product_id)  # fills only what the line lacks
    return {
        "id": str(item.id),
        "orderId": str(item.order_id),
        "productId": str(item.product_id),
        "variantId": str(item.variant_id),
        "productName": item.product_name or (copy.name if copy else ""),
        "variantAttributes": item.variant_attributes,
        "sku": item.sku or (copy.sku if copy else ""),
        "imageUrl": item.image_url or (copy.image_url if copy else None),
        "priceAtTimeOfOrder": _money(item.price_at_time_of_order),
        "quantity": item.quantity,
    }


def render_order(order, users, products, full_access=None):
    """One order; ``users``/``products``: ``selectors.related_copies``; ``full_access``: a
    callable order → bool (None: full access)."""
    user = users.get(order.user_id) if order.user_id else None
    data = {
        "id": str(order.id),
        "userId": _text(order.user_id),
        "guestEmail": _text(order.guest_email),
        "guestName": _text(order.guest_name),
        "phone": _text(order.phone),
        "status": _text(order.status),
        "paymentMethod": _text(order.payment_method),
        "shippingCost": _money(order.shipping_cost),
        "totalAmount": _money(order.total_amount),
        "shippingAddress": order.shipping_address,
        "createdAt": _iso(order.created_at),
        "updatedAt": _iso(order.updated_at),
        "items": [_line(item, products) for item in order.items.all()],
        "customerName": (user.name if user and user.name else None) or order.guest_name or "Guest",
        "customerEmail": (user.email if user and user.email else None) or order.guest_email,
        "customerAvatar": user.profile_image if user else None,
    }
    if full_access is not None and not full_access(order):
        mask_order(data)
    return data
