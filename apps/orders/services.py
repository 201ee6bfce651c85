"""Every write of the orders context: checkout, status workflow, guest lookup.

Checkout atomicity (see README.md): when the catalogue and the orders share one database
(``alias_for("catalog") == alias_for("orders")``, the monolith default) the stock reservation
and the order are written in ONE transaction; when they are split, the reservation commits
first in the catalogue's database and is compensated (``release_stock``) if the order cannot be
written; ``reconcile_reservations`` releases what a crash between the two left behind.
"""

import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.orders import events
from apps.orders.models import DenormalizedUser, IdempotencyKey, Order, OrderItem, OrderStatus, PaymentMethod
from ecommerce.db import alias_for
from ecommerce.errors import BadRequest, Conflict, NotFound
from ecommerce.sql import insert_rows

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MAX_LINES = 50
MAX_QUANTITY = 1000

ALLOWED_TRANSITIONS = {
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.FAILED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
    OrderStatus.DELIVERED: set(),
    OrderStatus.CANCELLED: set(),
    OrderStatus.FAILED: set(),
}
# Cash on delivery is collected at the door, so such an order ships without being marked PAID.
CASH_ON_DELIVERY_TRANSITIONS = {OrderStatus.PENDING: {OrderStatus.SHIPPED}}
RELEASING_STATUSES = {OrderStatus.CANCELLED, OrderStatus.FAILED}


def allowed_transitions(order):
    """The statuses ``order`` may move to next."""
    allowed = ALLOWED_TRANSITIONS[OrderStatus(order.status)]
    if order.payment_method == PaymentMethod.CASH_ON_DELIVERY:
        allowed = allowed | CASH_ON_DELIVERY_TRANSITIONS.get(OrderStatus(order.status), set())
    return allowed


@dataclass(frozen=True)
class Line:
    product_id: uuid.UUID
    variant_id: uuid.UUID
    quantity: int


@dataclass
class Customer:
    """The authenticated buyer, as the request knows them (``None`` for a guest)."""

    id: uuid.UUID
    name: str = ""
    email: str = ""
    profile_image: str | None = None


@dataclass
class CheckoutRequest:
    phone: str
    payment_method: str
    shipping_address: dict | None = None
    lines: list = field(default_factory=list)
    cart_id: str | None = None
    customer: Customer | None = None
    guest_email: str | None = None
    guest_name: str | None = None


def shipping_cost():
    return Decimal(str(settings.ORDER_SHIPPING_COST)).quantize(CENT, rounding=ROUND_HALF_UP)


def shares_transaction():
    """True when stock and orders live in one database (one transaction can hold both)."""
    return alias_for("catalog") == alias_for("orders")


def idempotency_scope(checkout):
    """Whose Idempotency-Keys these are: the user's id, or for a guest a digest of their email
    (one scope for every guest answered a guest whose shop reused another's key with a 409, or
    with that guest's order)."""
    if checkout.customer:
        return str(checkout.customer.id)
    email = (checkout.guest_email or "").strip().casefold()
    return "guest:" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:40]


def request_fingerprint(data):
    """A stable hash of a request body (keys sorted), to compare idempotent retries."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- checkout -----------------------------------------------------------------------------------


def merge_lines(lines):
    """One line per variant (quantities of repeated variants add up), in first-seen order."""
    merged = {}
    for line in lines:
        previous = merged.get(line.variant_id)
        if previous is None:
            merged[line.variant_id] = line
            continue
        if previous.product_id != line.product_id:
            raise BadRequest(
                f"Variant {line.variant_id} is listed under two different products.",
                errors={"items": [f"Variant {line.variant_id} is listed under two different products."]},
            )
        merged[line.variant_id] = Line(line.product_id, line.variant_id, previous.quantity + line.quantity)
    for line in merged.values():
        if line.quantity > MAX_QUANTITY:
            raise BadRequest(
                f"Quantity of variant {line.variant_id} must be at most {MAX_QUANTITY}.",
                errors={"items": [f"Quantity must be at most {MAX_QUANTITY}."]},
            )
    if len(merged) > MAX_LINES:
        raise BadRequest(
            f"An order holds at most {MAX_LINES} lines.", errors={"items": [f"At most {MAX_LINES} lines."]}
        )
    return list(merged.values())


@dataclass(frozen=True)
class CartRef:
    """The cart an order comes from: its id and this life of the id (``instanceId``)."""

    cart_id: uuid.UUID
    instance_id: uuid.UUID


class CartAlreadyOrdered(Conflict):
    default_detail = "This cart has already been ordered."


def _claim_cart_lines(cart_id, customer, claim_id):
    """``(lines, CartRef)`` of the cart, claimed for this checkout (a concurrent checkout of the
    same cart gets 409 instead of ordering its lines twice). The caller releases the claim on
    failure; a cart that already has its order is refused here (``CartAlreadyOrdered``)."""
    from apps.cart.services import claim_for_checkout

    # Someone else's cart does not exist (as in the cart API): the claim answers None for it.
    cart = claim_for_checkout(cart_id, customer.id if customer else None, claim_id)
    if cart is None:
        raise NotFound("Cart not found.")
    try:
        ref = CartRef(uuid.UUID(str(cart["id"])), uuid.UUID(str(cart["instanceId"])))
        _refuse_ordered_cart(ref)
        return _cart_lines(cart), ref
    except CartAlreadyOrdered:
        raise  # the cart is gone: nothing to give back
    except BaseException:
        _release_cart(cart_id, claim_id)
        raise


def _order_of_cart(ref):
    return (
        Order.objects.using(alias_for("orders"))
        .filter(cart_id=ref.cart_id, cart_instance_id=ref.instance_id)
        .values_list("id", flat=True)
        .first()
    )


def _refuse_ordered_cart(ref):
    """409 when this cart already has its order: its checkout committed and then died before it
    deleted the cart, and the claim has lapsed. That checkout's last step (deleting the cart) is
    done here, so the shop's next read of the id starts an empty cart instead of this one."""
    order_id = _order_of_cart(ref)
    if order_id is None:
        return
    from apps.cart.services import delete_cart

    try:
        delete_cart(str(ref.cart_id))
    except Exception:  # noqa: BLE001 - the refusal stands; the cart expires on its own
        logger.warning("could not clear an ordered cart", extra={"cart_id": str(ref.cart_id)})
    raise CartAlreadyOrdered(extra={"orderId": str(order_id)})


def _release_cart(cart_id, claim_id):
    """Give the cart's checkout claim back; if the store cannot be reached, the claim lapses."""
    from apps.cart.services import release_checkout_claim

    try:
        release_checkout_claim(cart_id, claim_id)
    except Exception:  # noqa: BLE001 - the checkout's own error is the answer
        logger.warning("could not release the cart's checkout claim", extra={"cart_id": cart_id})


def _cart_lines(cart):
    lines = []
    for item in cart.get("items") or []:
        try:
            lines.append(
                Line(uuid.UUID(str(item["productId"])), uuid.UUID(str(item["variantId"])), int(item["quantity"]))
            )
        except (KeyError, TypeError, ValueError):
            raise BadRequest("The cart holds an invalid item.")
    if not lines:
        raise BadRequest("Order must contain at least one item.", errors={"items": ["The cart is empty."]})
    for line in lines:
        if line.quantity < 1:
            raise BadRequest("The cart holds an invalid quantity.")
    return lines


def _snapshots_for(lines):
    """Catalogue data for every line, checked before anything is locked or written."""
    from apps.catalog.selectors import variant_snapshots

    snapshots = variant_snapshots([str(line.variant_id) for line in lines])
    snapshots = {str(k): v for k, v in snapshots.items()}
    for line in lines:
        snap = snapshots.get(str(line.variant_id))
        if snap is None or str(snap.product_id) != str(line.product_id):
            raise NotFound(f"Variant {line.variant_id} of product {line.product_id} not found.")
        if not snap.product_is_active:
            raise Conflict(f"Product '{snap.product_name}' is not available.")
        if line.quantity > snap.stock_quantity:
            raise Conflict(
                f"Insufficient stock for '{snap.product_name}': "
                f"{snap.stock_quantity} available, {line.quantity} requested.",
                extra={"variantId": str(line.variant_id), "available": snap.stock_quantity},
            )
    return snapshots


def _unit_price(snapshot):
    return Decimal(snapshot.price).quantize(CENT, rounding=ROUND_HALF_UP)


def _order_total(lines, snapshots):
    """The total the order will carry; refused when its column could not hold it."""
    subtotal = sum((_unit_price(snapshots[str(line.variant_id)]) * line.quantity for line in lines), Decimal("0"))
    total = (subtotal + shipping_cost()).quantize(CENT)
    field = Order._meta.get_field("total_amount")
    ceiling = Decimal(10) ** (field.max_digits - field.decimal_places) - CENT
    if total > ceiling:
        message = f"The order total {total} exceeds the maximum of {ceiling}."
        raise BadRequest(message, errors={"items": [message]})
    return total


def _write_order(order_id, checkout, lines, snapshots, total, cart=None):
    """Insert the order and its lines (one INSERT each); returns ``(order, items)``."""
    using = alias_for("orders")
    items = []
    for line in lines:
        snap = snapshots[str(line.variant_id)]
        price = _unit_price(snap)
        items.append(
            OrderItem(
                order_id=order_id,
                product_id=line.product_id,
                variant_id=line.variant_id,
                product_name=(snap.product_name or "")[:255],
                variant_attributes=dict(snap.attributes or {}),
                sku=(snap.sku or "")[:100],
                image_url=snap.image_url,
                price_at_time_of_order=price,
                quantity=line.quantity,
            )
        )
    shipping = shipping_cost()
    customer = checkout.customer
    status = OrderStatus.PAID if checkout.payment_method == PaymentMethod.CREDIT_CARD else OrderStatus.PENDING
    order = Order(
        id=order_id,
        user_id=customer.id if customer else None,
        guest_email=None if customer else checkout.guest_email,
        guest_name=None if customer else checkout.guest_name,
        phone=checkout.phone,
        status=status,
        payment_method=checkout.payment_method,
        shipping_cost=shipping,
        total_amount=total,
        shipping_address=checkout.shipping_address,
        cart_id=cart.cart_id if cart else None,
        cart_instance_id=cart.instance_id if cart else None,
    )
    # ``Order.objects.create`` and ``bulk_create`` without the ORM's insert compiler
    # (ecommerce/sql.py); the order has no signal receivers.
    insert_rows([order], using)
    insert_rows(items, using)
    if customer is not None:
        # Events may lag behind: make sure the order can show its customer at once.
        DenormalizedUser.objects.using(using).get_or_create(
            id=customer.id,
            defaults={
                "name": customer.name or "",
                "email": customer.email or "",
                "profile_image": customer.profile_image,
            },
        )
    return order, items


def _claim_key(scope, key, fingerprint, order_id):
    IdempotencyKey.objects.using(alias_for("orders")).create(
        scope=scope, key=key, request_hash=fingerprint, order_id=order_id
    )


def _replay(scope, key, fingerprint):
    """The order an earlier request with this key created, or ``None``; 409 if its body differed."""
    using = alias_for("orders")
    claimed = IdempotencyKey.objects.using(using).filter(scope=scope, key=key).first()
    if claimed is None:
        return None
    if not hmac.compare_digest(claimed.request_hash, fingerprint):
        raise Conflict("This Idempotency-Key was already used with a different request.")
    order = Order.objects.using(using).prefetch_related("items").filter(id=claimed.order_id).first()
    if order is None:  # pragma: no cover - the key and the order are written in one transaction
        raise Conflict("This Idempotency-Key belongs to an order that no longer exists.")
    return order


def place_order(checkout, *, idempotency_key=None, fingerprint=""):
    """Create an order; returns ``(order, created)``. ``created`` is False for an idempotent replay."""
    scope = idempotency_scope(checkout)
    if idempotency_key:
        existing = _replay(scope, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False

    order_id = uuid.uuid4()
    if not checkout.cart_id:
        return _place(checkout, checkout.lines, order_id, scope, idempotency_key, fingerprint)

    from apps.cart.services import delete_cart

    raw_lines, cart = _claim_cart_lines(checkout.cart_id, checkout.customer, order_id)
    try:
        order, created = _place(checkout, raw_lines, order_id, scope, idempotency_key, fingerprint, cart=cart)
    except IntegrityError:
        # Two checkouts of one cart both got past the claim (the first outlived its claim): the
        # unique constraint let one order through; this one wrote nothing (split shape: its
        # reservation was compensated).
        _refuse_ordered_cart(cart)
        _release_cart(checkout.cart_id, order_id)
        raise
    except BaseException:
        _release_cart(checkout.cart_id, order_id)  # a failed checkout keeps the cart
        raise
    if not created:  # another request's order (same Idempotency-Key): this one ordered nothing
        _release_cart(checkout.cart_id, order_id)
        return order, created
    try:
        delete_cart(checkout.cart_id)
    except Exception:  # noqa: BLE001 - the order stands; a leftover cart expires on its own
        logger.warning("could not clear cart after checkout", extra={"cart_id": checkout.cart_id})
    return order, created


def _place(checkout, raw_lines, order_id, scope, idempotency_key, fingerprint, cart=None):
    """Validate, reserve and write the order ``order_id`` (of the cart ``cart``, a ``CartRef``, if
    any); returns ``(order, created)``."""
    from apps.catalog.services import reserve_stock

    lines = merge_lines(raw_lines)
    snapshots = _snapshots_for(lines)
    total = _order_total(lines, snapshots)
    stock_lines = [(str(line.variant_id), line.quantity) for line in lines]
    reason = f"Order placement: {order_id}"
    using = alias_for("orders")

    try:
        if shares_transaction():
            # One database: the reservation and the order are one unit of work.
            with transaction.atomic(using=using):
                if idempotency_key:
                    _claim_key(scope, idempotency_key, fingerprint, order_id)
                # A failed reservation fails the whole order: no savepoint needed inside it.
                reserve_stock(stock_lines, order_id=order_id, reason=reason, savepoint=False)
                order, items = _write_order(order_id, checkout, lines, snapshots, total, cart)
                events.order_created(order, items)
        else:
            # Two databases: reserve (commits in the catalogue), then write; compensate on failure.
            try:
                reserve_stock(stock_lines, order_id=order_id, reason=reason)
            except Conflict:
                # A duplicate of an in-flight request may find the stock already taken by it.
                existing = _replay(scope, idempotency_key, fingerprint) if idempotency_key else None
                if existing is not None:
                    return existing, False
                raise
            try:
                with transaction.atomic(using=using):
                    if idempotency_key:
                        _claim_key(scope, idempotency_key, fingerprint, order_id)
                    order, items = _write_order(order_id, checkout, lines, snapshots, total, cart)
                    events.order_created(order, items)
            except BaseException:
                _compensate(order_id)
                raise
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race: answer with its order.
        if idempotency_key:
            existing = _replay(scope, idempotency_key, fingerprint)
            if existing is not None:
                return existing, False
        raise

    order._prefetched_objects_cache = {"items": items}
    return order, True


def _compensate(order_id):
    from apps.catalog.services import release_stock

    try:
        release_stock(order_id, reason=f"Compensation: order {order_id} could not be written")
    except Exception:  # noqa: BLE001 - the reconciler releases it later
        logger.exception("stock compensation failed; the reconciler will release it", extra={"order_id": str(order_id)})


# --- status workflow ----------------------------------------------------------------------------


def change_status(order_id, new_status):
    """Move an order along the workflow; cancelling or failing gives the stock back.

    The status the order already has is a no-op (a retried or double-clicked request): the
    order comes back unchanged, with no event and no stock movement."""
    from apps.catalog.services import release_stock

    if new_status not in OrderStatus.values:
        raise BadRequest(
            f"Invalid status. Allowed: {', '.join(OrderStatus.values)}.",
            errors={"status": [f"Must be one of {', '.join(OrderStatus.values)}."]},
        )
    using = alias_for("orders")
    with transaction.atomic(using=using):
        order = Order.objects.using(using).select_for_update().filter(id=order_id).first()
        if order is None:
            raise NotFound("Order not found.")
        previous = order.status
        if new_status == previous:
            return order
        if new_status not in allowed_transitions(order):
            raise Conflict(f"Cannot change order status from {previous} to {new_status}.")
        order.status = new_status
        order.save(using=using, update_fields=["status", "updated_at"])
        events.order_status_changed(order, previous)
        if new_status in RELEASING_STATUSES and shares_transaction():
            release_stock(order.id, reason=f"Order {order.id} {new_status.lower()}")
    if new_status in RELEASING_STATUSES and not shares_transaction():
        # Split databases: the status is committed; a failed release is retried by the reconciler.
        try:
            release_stock(order.id, reason=f"Order {order.id} {new_status.lower()}")
        except Exception:  # noqa: BLE001
            logger.exception("stock release failed; the reconciler will retry", extra={"order_id": str(order.id)})
    return order


# --- guest lookup -------------------------------------------------------------------------------

GUEST_LOOKUP_MISS = "Order not found or email does not match."


def guest_lookup(order_id, email):
    """The guest order with this id and email; one 404 message for every kind of mismatch."""
    try:
        order_uuid = uuid.UUID(str(order_id))
    except ValueError:
        order_uuid = None
    order = None
    if order_uuid is not None:
        order = Order.objects.using(alias_for("orders")).filter(id=order_uuid).first()
    expected = ((order.guest_email if order else None) or "").strip().casefold()
    given = (email or "").strip().casefold()
    # Compare even when there is nothing to compare against, so every miss costs the same.
    same = hmac.compare_digest(expected.encode("utf-8") or b"\0", given.encode("utf-8"))
    if order is None or not expected or not same:
        raise NotFound(GUEST_LOOKUP_MISS)
    return order
