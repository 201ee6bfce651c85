"""Carts: every change and the public interface other apps use.

Public (other apps call only these):
- ``get_cart(cart_id) -> dict | None``: the cart as the API shows it (current prices, flags,
  totals), or ``None``; no access check (the caller decides who may see it);
- ``delete_cart(cart_id) -> bool``;
- ``claim_for_checkout(cart_id, user_id, claim_id) -> dict | None`` and
  ``release_checkout_claim(cart_id, claim_id)``: one checkout at a time per cart (below).

A cart is a JSON document in the cart store (``apps.cart.store``)::

    {id, userId, items: [{itemId, productId, variantId, quantity, price, name, imageUrl,
     attributes, sku, addedAt}], createdAt, updatedAt, instanceId}

``instanceId`` (random, never shown by the API) names this life of the cart id: the id outlives
its cart (``GET /carts/<id>`` of a deleted cart creates an empty one under the same id), and the
orders keep one order per cart instance, so an ordered cart that a dead checkout left behind is
refused while the same id filled again later is a new cart.

``price`` in the document is the catalogue price when the line was added (a string with 2
decimals); the API shows the current price and flags the difference. Name, price, image and
attributes always come from the catalogue (``apps.catalog.selectors.variant_snapshots``), never
from the client. ``cart:user:<userId>`` points at the user's cart (a hint, verified on use).

Who may use a cart: a guest cart (``userId`` null) is usable by anyone who holds its id (the id is
a random UUID: the bearer secret of a guest); a cart owned by a user only with that user's token.
To anyone else an owned cart does not exist (404, not 403: a shop client that gets a 404 drops
its stored id and starts a new cart, which is what should happen after a logout).
"""

import time
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from apps.cart.store import CartBusy, Retry, get_store
from ecommerce.errors import BadRequest, Conflict, NotFound

CART_NOT_FOUND = "Cart not found."
ITEM_NOT_FOUND = "Item not found in cart."
VARIANT_NOT_FOUND = "Product variant not found or not available."

OUT_OF_STOCK = "OUT_OF_STOCK"
INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
UNAVAILABLE = "UNAVAILABLE"

CENT = Decimal("0.01")
MAX_RESTARTS = 50  # an operation on several keys starts again at most this often under contention


def max_quantity():
    """The most units of one variant a cart line may hold."""
    return int(getattr(settings, "CART_MAX_ITEM_QUANTITY", 99))


def checkout_claim_seconds():
    """How long a checkout's claim on a cart holds when nobody releases it (a crashed process)."""
    return int(getattr(settings, "CART_CHECKOUT_CLAIM_SECONDS", 120))


def max_lines():
    """The most distinct lines a cart may hold (bounds the document's size)."""
    return int(getattr(settings, "CART_MAX_LINES", 100))


# --- keys, ids, documents ---------------------------------------------------------------------


def cart_key(cart_id):
    return f"cart:{cart_id}"


def user_key(user_id):
    return f"cart:user:{user_id}"


def normalize_id(value):
    """The canonical form of a cart id, or ``None`` when it is not a UUID."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def _require_cart_id(value):
    cart_id = normalize_id(value)
    if cart_id is None:
        raise NotFound(CART_NOT_FOUND)
    return cart_id


def _now():
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _new_cart(cart_id, user_id=None):
    now = _now()
    return {
        "id": cart_id,
        "userId": user_id,
        "items": [],
        "createdAt": now,
        "updatedAt": now,
        "instanceId": str(uuid.uuid4()),
    }


def _user_id(user):
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.id)
    return None


class CartOfAnotherUser(NotFound):
    """Someone else's cart: answered as a missing cart (its existence is not disclosed)."""


def _check_access(cart, user):
    """An owned cart is visible to its owner only; to anyone else it does not exist."""
    owner = cart.get("userId")
    if owner and owner != _user_id(user):
        raise CartOfAnotherUser(CART_NOT_FOUND)


# --- the catalogue (through its public interface only) ----------------------------------------


class Snapshots:
    """Variant snapshots fetched once per request, completed on demand (2 queries per fetch)."""

    def __init__(self):
        self.found = {}
        self.asked = set()

    def ensure(self, variant_ids):
        missing = {str(v) for v in variant_ids} - self.asked
        if missing:
            from apps.catalog.selectors import variant_snapshots

            self.found.update(variant_snapshots(sorted(missing)))
            self.asked |= missing
        return self

    def get(self, variant_id):
        self.ensure([variant_id])
        return self.found.get(str(variant_id))

    def for_cart(self, cart):
        return self.ensure(item["variantId"] for item in cart["items"]) if cart else self


def _available(snapshot):
    return snapshot is not None and snapshot.product_is_active


def _line_from_snapshot(line, snapshot):
    line.update(
        productId=snapshot.product_id,
        price=str(_money(snapshot.price)),
        name=snapshot.product_name,
        imageUrl=snapshot.image_url,
        attributes=dict(snapshot.attributes or {}),
        sku=snapshot.sku,
    )
    return line


# --- how a cart is shown -----------------------------------------------------------------------


def present(cart, snapshots):
    """The API's cart: current prices, lines flagged when price or stock changed, totals."""
    snapshots.for_cart(cart)
    items, subtotal, count = [], Decimal("0.00"), 0
    for line in cart["items"]:
        snapshot = snapshots.found.get(line["variantId"])
        stored_price = _money(line["price"])
        quantity = int(line["quantity"])
        if _available(snapshot):
            price = _money(snapshot.price)
            available = int(snapshot.stock_quantity)
            if available <= 0:
                issue = OUT_OF_STOCK
            elif quantity > available:
                issue = INSUFFICIENT_STOCK
            else:
                issue = None
            name, image, attributes = snapshot.product_name, snapshot.image_url, dict(snapshot.attributes or {})
        else:
            price, available, issue = stored_price, 0, UNAVAILABLE
            name, image, attributes = line.get("name"), line.get("imageUrl"), line.get("attributes") or {}
        line_total = (price * quantity).quantize(CENT)
        if issue != UNAVAILABLE:
            subtotal += line_total
        count += quantity
        changed = price != stored_price
        items.append(
            {
                "itemId": line["itemId"],
                "productId": line["productId"],
                "variantId": line["variantId"],
                "quantity": quantity,
                "price": str(price),
                "name": name or "Product Name Unavailable",
                "imageUrl": image,
                "attributes": attributes,
                "sku": line.get("sku"),
                "addedAt": line["addedAt"],
                "lineTotal": str(line_total),
                "priceChanged": changed,
                "previousPrice": str(stored_price) if changed else None,
                "availableQuantity": max(available, 0),
                "stockIssue": issue,
            }
        )
    return {
        "id": cart["id"],
        "userId": cart.get("userId"),
        "items": items,
        "subtotal": str(subtotal.quantize(CENT)),
        "itemCount": count,
        "hasIssues": any(i["stockIssue"] or i["priceChanged"] for i in items),
        "createdAt": cart["createdAt"],
        "updatedAt": cart["updatedAt"],
    }


# --- public interface for other apps ------------------------------------------------------------


def get_cart(cart_id):
    """The cart as the API shows it, or ``None``. Refreshes its TTL. No access check."""
    cart_id = normalize_id(cart_id)
    if cart_id is None:
        return None
    cart = get_store().read(cart_key(cart_id))
    return present(cart, Snapshots()) if cart else None


def delete_cart(cart_id):
    """Delete a cart (and the owner's pointer to it). ``True`` when there was one."""
    cart_id = normalize_id(cart_id)
    if cart_id is None:
        return False
    store = get_store()
    key = cart_key(cart_id)

    def remove(values):
        cart = values[key]
        if cart is None:
            return {}, None
        return {key: None}, cart

    removed = store.atomic([key], remove)
    if removed and removed.get("userId"):
        _drop_pointer(store, removed["userId"], cart_id)
    return removed is not None


class CartCheckoutInProgress(Conflict):
    default_detail = "This cart is already being checked out."


def claim_for_checkout(cart_id, user_id, claim_id):
    """Reserve the cart for one checkout and return it as shown, plus its ``instanceId`` (``None``:
    no such cart, or one owned by someone other than ``user_id``, which does not exist to them).

    The cart is read and claimed in one atomic step, so two checkouts of one cart (a double click,
    two tabs) cannot both order its lines: while a claim holds, another one is refused with
    ``CartCheckoutInProgress`` (409). The checkout deletes the cart when the order is written, or
    gives the claim back (``release_checkout_claim``) when it fails, so the cart can be ordered
    again. A claim nobody gives back (the process died) lapses after ``checkout_claim_seconds()``:
    the order then exists and the cart too, which is why the checkout records ``instanceId`` on the
    order under a unique constraint (a second order of this cart instance is refused there).
    """
    cart_id = normalize_id(cart_id)
    if cart_id is None:
        return None
    store = get_store()
    key = cart_key(cart_id)

    def claim(values):
        cart = values[key]
        if cart is None or (cart.get("userId") and cart["userId"] != (str(user_id) if user_id else None)):
            return {}, None
        now = time.time()
        current = cart.get("checkout")
        if current and current.get("claim") != str(claim_id) and float(current.get("until", 0)) > now:
            raise CartCheckoutInProgress()
        cart["checkout"] = {"claim": str(claim_id), "until": now + checkout_claim_seconds()}
        # A cart stored before instances existed gets one now, kept with the claim: a checkout
        # that dies after its order leaves it in the store for the next claim to find.
        cart.setdefault("instanceId", str(uuid.uuid4()))
        return {key: cart}, cart

    cart = store.atomic([key], claim)
    if cart is None:
        return None
    return {**present(cart, Snapshots()), "instanceId": cart["instanceId"]}


def release_checkout_claim(cart_id, claim_id):
    """Give back a claim taken by ``claim_for_checkout`` (a failed checkout keeps its cart)."""
    cart_id = normalize_id(cart_id)
    if cart_id is None:
        return
    key = cart_key(cart_id)

    def release(values):
        cart = values[key]
        if cart is None or (cart.get("checkout") or {}).get("claim") != str(claim_id):
            return {}, None
        del cart["checkout"]
        return {key: cart}, None

    get_store().atomic([key], release)


def _drop_pointer(store, user_id, cart_id):
    pointer = user_key(user_id)

    def drop(values):
        return ({pointer: None} if values[pointer] == cart_id else {}), None

    store.atomic([pointer], drop)


# --- the API's operations ---------------------------------------------------------------------


def _read_owned_pointer(store, user_id):
    """The user's current cart id according to the pointer, when that cart still exists."""
    cart_id = store.read(user_key(user_id))
    if not cart_id:
        return None
    cart = store.read(cart_key(cart_id))
    if cart is None or cart.get("userId") != user_id:
        return None
    return cart


def _touch_owner_pointer(store, cart):
    if cart.get("userId"):
        store.touch(user_key(cart["userId"]))


def create_cart(user=None, cart_id=None):
    """``POST /carts``: ``(cart, created)``.

    With ``cart_id`` of an existing cart: that cart (refreshed). With an unknown ``cart_id``: a new
    cart under that id (as the original). Without: a signed-in user gets their cart when they have
    one, else a new cart they own; a guest gets a new guest cart.
    """
    store = get_store()
    snapshots = Snapshots()
    if cart_id is not None:
        return open_cart(cart_id, user)
    user_id = _user_id(user)
    if user_id is None:
        cart = _new_cart(str(uuid.uuid4()))
        key = cart_key(cart["id"])
        store.atomic([key], lambda values: ({key: cart}, None))
        return present(cart, snapshots), True

    for _attempt in range(MAX_RESTARTS):
        existing = _read_owned_pointer(store, user_id)
        if existing is not None:
            _touch_owner_pointer(store, existing)
            return present(existing, snapshots), False
        new = _new_cart(str(uuid.uuid4()), user_id)
        key, pointer = cart_key(new["id"]), user_key(user_id)

        def create(values, new=new, key=key, pointer=pointer):
            if values[pointer] is not None:
                raise Retry()
            return {key: new, pointer: new["id"]}, new

        try:
            cart = store.atomic([key, pointer], create)
        except Retry:
            continue
        return present(cart, snapshots), True
    raise CartBusy()


def open_cart(cart_id, user=None):
    """``GET /carts/:id``: ``(cart, created)``; an unknown id yields a new empty cart (201)."""
    cart_id = _require_cart_id(cart_id)
    store = get_store()
    key = cart_key(cart_id)
    cart = store.read(key)
    if cart is not None:
        _check_access(cart, user)
        _touch_owner_pointer(store, cart)
        return present(cart, Snapshots()), False

    def create(values):
        if values[key] is not None:  # created meanwhile by a concurrent request
            return {}, (values[key], False)
        new = _new_cart(cart_id)
        return {key: new}, (new, True)

    cart, created = store.atomic([key], create)
    _check_access(cart, user)
    return present(cart, Snapshots()), created


def _mutate(cart_id, user, change, *, create_missing=False, variant_ids=()):
    """Apply ``change(cart, snapshots)`` (in place) atomically; return the cart as shown."""
    cart_id = _require_cart_id(cart_id)
    store = get_store()
    key = cart_key(cart_id)
    # The catalogue data of the cart and of ``variant_ids``, in one fetch before the transaction
    # (a retry then rarely needs another query).
    current = store.read(key)
    snapshots = Snapshots().ensure([*variant_ids, *(i["variantId"] for i in (current or {}).get("items", []))])

    def apply(values):
        cart = values[key]
        if cart is None:
            if not create_missing:
                raise NotFound(CART_NOT_FOUND)
            cart = _new_cart(cart_id)
        _check_access(cart, user)
        change(cart, snapshots)
        cart["updatedAt"] = _now()
        return {key: cart}, cart

    cart = store.atomic([key], apply)
    _touch_owner_pointer(store, cart)
    return present(cart, snapshots)


def _stock_conflict(snapshot, wanted, in_cart=0):
    available = max(int(snapshot.stock_quantity), 0)
    if in_cart:
        message = (
            f"Not enough stock for {snapshot.product_name}: {available} available, "
            f"{in_cart} already in your cart, {wanted} requested in total."
        )
    else:
        message = f"Not enough stock for {snapshot.product_name}: only {available} available."
    return Conflict(message, extra={"availableQuantity": available, "variantId": snapshot.variant_id})


def _too_many(wanted):
    limit = max_quantity()
    return BadRequest(
        f"A cart line may hold at most {limit} units ({wanted} requested).",
        errors={"quantity": [f"Ensure the total quantity is at most {limit}."]},
    )


def add_item(cart_id, user, *, variant_id, quantity, product_id=None):
    """``POST /carts/:id/items``: add ``quantity`` of a variant (adds up with an existing line).

    The line's name, price, image and attributes come from the catalogue. An unknown or inactive
    variant (or one of another product than ``product_id``) → 404; more than the stock → 409.
    """
    variant_id = str(variant_id)

    def change(cart, snapshots):
        snapshot = snapshots.get(variant_id)
        if not _available(snapshot) or (product_id is not None and snapshot.product_id != str(product_id)):
            raise NotFound(VARIANT_NOT_FOUND)
        line = next((i for i in cart["items"] if i["variantId"] == snapshot.variant_id), None)
        in_cart = int(line["quantity"]) if line else 0
        wanted = in_cart + quantity
        if wanted > max_quantity():
            raise _too_many(wanted)
        if wanted > snapshot.stock_quantity:
            raise _stock_conflict(snapshot, wanted, in_cart)
        if line is None:
            if len(cart["items"]) >= max_lines():
                raise BadRequest(f"A cart may hold at most {max_lines()} different items.")
            line = {"itemId": str(uuid.uuid4()), "variantId": snapshot.variant_id, "addedAt": _now()}
            cart["items"].append(line)
        # Adding again takes the current catalogue data (the shopper saw the current price).
        _line_from_snapshot(line, snapshot)
        line["quantity"] = wanted

    return _mutate(cart_id, user, change, create_missing=True, variant_ids=[variant_id])


def _find_line(cart, item_id):
    line = next((i for i in cart["items"] if i["itemId"] == str(item_id)), None)
    if line is None:
        raise NotFound(ITEM_NOT_FOUND)
    return line


def set_item_quantity(cart_id, user, item_id, quantity):
    """``PUT /carts/:id/items/:itemId``: set the quantity; 0 removes the line."""

    def change(cart, snapshots):
        line = _find_line(cart, item_id)
        if quantity == 0:
            cart["items"].remove(line)
            return
        if quantity > max_quantity():
            raise _too_many(quantity)
        snapshot = snapshots.get(line["variantId"])
        if not _available(snapshot):
            raise Conflict(
                f"{line.get('name') or 'This product'} is no longer available.",
                extra={"availableQuantity": 0, "variantId": line["variantId"]},
            )
        if quantity > snapshot.stock_quantity:
            raise _stock_conflict(snapshot, quantity)
        line["quantity"] = quantity

    return _mutate(cart_id, user, change)


def remove_item(cart_id, user, item_id):
    """``DELETE /carts/:id/items/:itemId``."""

    def change(cart, snapshots):
        cart["items"].remove(_find_line(cart, item_id))

    return _mutate(cart_id, user, change)


def clear_items(cart_id, user):
    """``DELETE /carts/:id/items``."""

    def change(cart, snapshots):
        cart["items"] = []

    return _mutate(cart_id, user, change)


def delete_cart_for(cart_id, user):
    """``DELETE /carts/:id``: 404 when unknown (or owned by someone else)."""
    cart_id = _require_cart_id(cart_id)
    store = get_store()
    key = cart_key(cart_id)

    def remove(values):
        cart = values[key]
        if cart is None:
            raise NotFound("Cart not found or already deleted.")
        _check_access(cart, user)
        return {key: None}, cart

    removed = store.atomic([key], remove)
    if removed.get("userId"):
        _drop_pointer(store, removed["userId"], cart_id)


def _merge_lines(target, source, snapshots):
    """Add ``source``'s lines into ``target`` (same variant: quantities add up, capped by stock)."""
    snapshots.ensure(i["variantId"] for i in source["items"] + target["items"])
    by_variant = {i["variantId"]: i for i in target["items"]}
    for line in source["items"]:
        mine = by_variant.get(line["variantId"])
        if mine is None:
            if len(target["items"]) < max_lines():
                copy = dict(line)
                target["items"].append(copy)
                by_variant[copy["variantId"]] = copy
            continue
        total = min(int(mine["quantity"]) + int(line["quantity"]), max_quantity())
        snapshot = snapshots.found.get(line["variantId"])
        if _available(snapshot):
            stock = int(snapshot.stock_quantity)
            # Capped by the stock; with none left, keep the larger line as it was (flagged).
            total = min(total, stock) if stock > 0 else max(int(mine["quantity"]), int(line["quantity"]))
            total = max(total, 1)
        mine["quantity"] = total


def associate(cart_id, user):
    """``POST /carts/associate``: the guest cart ``cart_id`` becomes the signed-in user's cart.

    When the user already has another cart, the two are merged (quantities add up, capped by the
    stock) into the cart the client holds (``cart_id``), and the other one is deleted: the
    original shop keeps its stored cart id after this call, so that id must stay valid. The
    pointer ``cart:user:<userId>`` then names this cart.
    """
    cart_id = _require_cart_id(cart_id)
    user_id = _user_id(user)
    store = get_store()
    key, pointer = cart_key(cart_id), user_key(user_id)
    snapshots = Snapshots()

    for _attempt in range(MAX_RESTARTS):
        previous_id = store.read(pointer)
        keys = [key, pointer]
        if previous_id and previous_id != cart_id:
            keys.append(cart_key(previous_id))

        def merge(values, previous_id=previous_id):
            if values[pointer] != previous_id:
                raise Retry()  # the user's cart changed meanwhile: start again
            cart = values[key]
            previous = values.get(cart_key(previous_id)) if previous_id and previous_id != cart_id else None
            if previous is not None and previous.get("userId") != user_id:
                previous = None
            if cart is None:
                if previous is None:
                    raise NotFound(CART_NOT_FOUND)
                # The guest cart is gone (expired, ordered): the user's cart is the answer.
                return {pointer: previous["id"]}, previous
            _check_access(cart, user)
            writes = {pointer: cart_id}
            if previous is not None:
                _merge_lines(cart, previous, snapshots)
                writes[cart_key(previous["id"])] = None
            cart["userId"] = user_id
            cart["updatedAt"] = _now()
            writes[key] = cart
            return writes, cart

        try:
            cart = store.atomic(keys, merge)
        except Retry:
            continue
        return present(cart, snapshots)
    raise CartBusy()
