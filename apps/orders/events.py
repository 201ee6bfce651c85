"""What the orders context says (``order_events``) and what it listens to.

Published (through the outbox, inside the transaction of the change):
``ORDER_CREATED`` (the order with its lines) and ``ORDER_STATUS_CHANGED``
(``{id, userId, status, previousStatus, totalAmount, paymentMethod, updatedAt}``).

Consumed (through the events runner, which records each event id in the handler's transaction,
so a redelivered event changes nothing): ``product_events`` and ``auth_events`` keep
``denormalized_products`` and ``denormalized_users`` up to date. Deletes keep the copy (old
orders still show who and what) and mark it deleted / inactive.
"""

import logging
import uuid
from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.events.ordering import MalformedVersion, is_stale, parse_version
from apps.events.outbox import publish
from apps.events.registry import Event, consumer
from apps.orders.models import DenormalizedProduct, DenormalizedUser
from ecommerce.db import alias_for

logger = logging.getLogger(__name__)

TOPIC = "order_events"


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def order_payload(order, items=None):
    items = list(order.items.all()) if items is None else items
    return {
        "id": str(order.id),
        "userId": str(order.user_id) if order.user_id else None,
        "guestEmail": order.guest_email,
        "status": order.status,
        "paymentMethod": order.payment_method,
        "totalAmount": f"{order.total_amount:.2f}",
        "createdAt": _iso(order.created_at),
        "updatedAt": _iso(order.updated_at),
        "items": [
            {
                "id": str(i.id),
                "productId": str(i.product_id),
                "variantId": str(i.variant_id),
                "sku": i.sku,
                "priceAtTimeOfOrder": f"{i.price_at_time_of_order:.2f}",
                "quantity": i.quantity,
            }
            for i in items
        ],
    }


def order_created(order, items):
    """Call inside the checkout's transaction on ``alias_for("orders")``."""
    publish(
        TOPIC, "ORDER_CREATED", order.id, order_payload(order, items), using=alias_for("orders"), aggregate_type="order"
    )


def order_status_changed(order, previous_status):
    """Call inside the status change's transaction on ``alias_for("orders")``."""
    payload = {
        "id": str(order.id),
        "userId": str(order.user_id) if order.user_id else None,
        "status": order.status,
        "previousStatus": previous_status,
        "totalAmount": f"{order.total_amount:.2f}",
        "paymentMethod": order.payment_method,
        "updatedAt": _iso(order.updated_at),
    }
    publish(TOPIC, "ORDER_STATUS_CHANGED", order.id, payload, using=alias_for("orders"), aggregate_type="order")


# --- consumers ----------------------------------------------------------------------------------


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _primary_image(images):
    if not isinstance(images, list):
        return None
    images = [i for i in images if isinstance(i, dict) and i.get("imageUrl")]
    if not images:
        return None
    primary = next((i for i in images if i.get("isPrimary")), None)
    if primary is None:
        primary = min(images, key=lambda i: i.get("order") if isinstance(i.get("order"), int) else 0)
    return str(primary["imageUrl"])[:1000]


def _text(value, limit):
    return "" if value is None else str(value)[:limit]


class MalformedProductEvent(ValueError):
    """A product document the copy cannot take; the runner retries, then dead-letters it."""


def _datetime(value):
    """An aware datetime from ISO text (naive text is read as UTC), else ``None``."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _product_fields(event_type, payload):
    """What the copy needs from a PRODUCT_CREATED / PRODUCT_UPDATED document, checked: ``name``
    and ``sku`` non-blank strings, ``updatedAt`` an ISO date-time, ``version`` (optional) a
    non-negative integer. A malformed document raises instead of blanking the copy."""
    problems = [key for key in ("name", "sku") if not isinstance(payload.get(key), str) or not payload[key].strip()]
    updated_at = _datetime(payload.get("updatedAt"))
    if updated_at is None:
        problems.append("updatedAt")
    try:
        version = parse_version(payload.get("version"))
    except MalformedVersion:
        version = None
        problems.append("version")
    if problems:
        raise MalformedProductEvent(f"{event_type} with a missing or malformed {', '.join(problems)}")
    return updated_at, version


@consumer(topic="product_events", group="orders", context="orders")
def on_product_event(event: Event):
    payload = event.payload
    product_id = _uuid(payload.get("id"))
    if product_id is None:
        if event.type.startswith("PRODUCT_"):
            raise ValueError(f"{event.type} without a valid product id")
        return  # CATEGORY_* events carry no product
    using = alias_for("orders")
    if event.type == "PRODUCT_DELETED":
        updated = (
            DenormalizedProduct.objects.using(using).filter(id=product_id).update(is_deleted=True, is_active=False)
        )
        if not updated:
            DenormalizedProduct.objects.using(using).create(id=product_id, is_deleted=True, is_active=False)
        return
    if event.type not in ("PRODUCT_CREATED", "PRODUCT_UPDATED"):
        return
    source_updated_at, version = _product_fields(event.type, payload)
    current = DenormalizedProduct.objects.using(using).select_for_update().filter(id=product_id).first()
    if current is not None and current.is_deleted:
        return  # a late update never resurrects a deleted product
    if current is not None and is_stale(version, source_updated_at, current.source_version, current.source_updated_at):
        return  # what we hold is as new or newer (a replay, or redelivery out of order)
    values = {
        "name": _text(payload.get("name"), 255),
        "sku": _text(payload.get("sku"), 100),
        "image_url": _primary_image(payload.get("images")),
        "is_active": bool(payload.get("isActive", True)),
        "source_updated_at": source_updated_at,
    }
    if current is None:
        DenormalizedProduct.objects.using(using).create(id=product_id, source_version=version, **values)
    elif any(getattr(current, field) != value for field, value in values.items()) or (
        version is not None and current.source_version is None
    ):
        DenormalizedProduct.objects.using(using).filter(id=product_id).update(
            **values, source_version=version, synced_at=timezone.now()
        )
    # else: a stock movement (most product events): nothing this copy holds has changed, so it
    # is not written, and keeps the version it was written from. That is enough: a document
    # newer than that version but older than this one carries the same fields.


@consumer(topic="auth_events", group="orders", context="orders")
def on_auth_event(event: Event):
    payload = event.payload
    user_id = _uuid(payload.get("id"))
    if user_id is None:
        raise ValueError(f"{event.type} without a valid user id")
    using = alias_for("orders")
    if event.type == "USER_DELETED":
        # The original sends USER_DELETED on deactivation: keep the copy, mark it inactive.
        if not DenormalizedUser.objects.using(using).filter(id=user_id).update(is_active=False):
            DenormalizedUser.objects.using(using).create(id=user_id, is_active=False)
        return
    if event.type not in ("USER_CREATED", "USER_UPDATED"):
        return
    values = {
        "name": _text(payload.get("name"), 255),
        "email": _text(payload.get("email"), 254),
        "profile_image": _text(payload.get("profileImage"), 1000) or None,
        "is_active": bool(payload.get("isActive", True)),
    }
    DenormalizedUser.objects.using(using).update_or_create(id=user_id, defaults=values)
