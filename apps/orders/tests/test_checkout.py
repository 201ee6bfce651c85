"""POST /orders: validation, prices from the catalogue, stock all or nothing, atomicity."""

import uuid
from decimal import Decimal

import pytest
from django.test import override_settings

from apps.orders import services
from apps.orders.models import Order
from apps.orders.tests.conftest import guest_body, make_product, movements_of, set_active, stock_of
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def test_guest_checkout_takes_prices_from_the_catalogue_and_stock(place, django_capture_on_commit_callbacks):
    first = make_product(price="19.90", stock=5, image_url="https://cdn.example.com/a.png")
    second = make_product(price="5.05", stock=3)
    body = guest_body(first, quantity=2)
    body["items"].append({"productId": second.id, "variantId": second.variant_id, "quantity": 3, "price": 1})
    with django_capture_on_commit_callbacks(execute=True):
        response = place(body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "PENDING"
    assert data["paymentMethod"] == "CASH_ON_DELIVERY"
    assert data["userId"] is None
    assert data["guestEmail"] == "jane.doe@example.com"
    assert data["customerName"] == "Jane Doe"
    assert data["customerEmail"] == "jane.doe@example.com"
    assert data["customerAvatar"] is None
    # 2 × 19.90 + 3 × 5.05 + 9.18 shipping; client prices are ignored.
    assert data["totalAmount"] == "64.13"
    assert data["shippingAddress"]["city"] == "Paris"
    lines = {i["variantId"]: i for i in data["items"]}
    assert lines[first.variant_id]["priceAtTimeOfOrder"] == "19.90"
    assert lines[first.variant_id]["productName"] == first.name
    assert lines[first.variant_id]["sku"] == first.sku
    assert lines[first.variant_id]["imageUrl"] == "https://cdn.example.com/a.png"
    assert lines[first.variant_id]["variantAttributes"] == {"size": "0"}
    assert lines[second.variant_id]["priceAtTimeOfOrder"] == "5.05"
    assert all(i["orderId"] == data["id"] for i in data["items"])
    assert stock_of(first.variant_id) == 3
    assert stock_of(second.variant_id) == 0
    taken = [m for m in movements_of(first.variant_id) if m.type == "ORDER"]
    assert [(m.change_quantity, str(m.related_order_id)) for m in taken] == [(-2, data["id"])]
    order = Order.objects.get(id=data["id"])
    assert order.total_amount == Decimal("64.13")
    assert order.shipping_cost == Decimal("9.18")


def test_order_created_event_is_written_to_the_outbox(place):
    from apps.events.models import OutboxEvent

    product = make_product()
    response = place(guest_body(product))
    assert response.status_code == 201
    event = (
        OutboxEvent.objects.using(alias_for("orders"))
        .filter(topic="order_events", aggregate_id=response.json()["id"])
        .get()
    )
    assert event.event_type == "ORDER_CREATED"
    assert event.payload["totalAmount"] == response.json()["totalAmount"]
    assert event.payload["items"][0]["quantity"] == 1


def test_card_payment_starts_paid(place, product):
    response = place(guest_body(product, paymentMethod="CREDIT_CARD"))
    assert response.status_code == 201
    assert response.json()["status"] == "PAID"


@override_settings(ORDER_SHIPPING_COST="0.00")
def test_shipping_cost_is_configurable(place):
    product = make_product(price="10.00")
    response = place(guest_body(product, quantity=3))
    assert response.json()["totalAmount"] == "30.00"


def test_store_pickup_has_no_address_and_apartment_is_optional(place, product):
    response = place(guest_body(product, shippingAddress=None))
    assert response.status_code == 201
    assert response.json()["shippingAddress"] is None
    body = guest_body(product)
    del body["shippingAddress"]["apartment"]
    response = place(body)
    assert response.status_code == 201
    assert response.json()["shippingAddress"]["apartment"] is None


@pytest.mark.parametrize("field", ["firstName", "postalCode", "apartment"])
@pytest.mark.parametrize("sent", ["missing", "", "  ", None])
def test_first_name_postal_code_and_apartment_are_optional(place, product, field, sent):
    # The shop's checkout labels them optional and sends them blank (or not at all).
    body = guest_body(product)
    if sent == "missing":
        del body["shippingAddress"][field]
    else:
        body["shippingAddress"][field] = sent
    response = place(body)
    assert response.status_code == 201, response.json()
    address = response.json()["shippingAddress"]
    assert address[field] is None
    assert set(address) == {"country", "firstName", "lastName", "address", "apartment", "postalCode", "city"}


def test_authenticated_checkout_belongs_to_the_user(place, client_as, product):
    client, user = client_as("Customer", name="Ann Buyer", profile_image="https://cdn.example.com/ann.png")
    body = guest_body(product, guestEmail=None, guestName=None)
    response = place(body, client=client)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["userId"] == str(user.id)
    assert data["guestEmail"] is None and data["guestName"] is None
    assert data["customerName"] == "Ann Buyer"
    assert data["customerEmail"] == user.email
    assert data["customerAvatar"] == "https://cdn.example.com/ann.png"


def test_buying_needs_no_permission_beyond_a_valid_token(place, client_as, product):
    client, _ = client_as("Support")  # staff role without create:order: the contract says "optional JWT"
    assert place(guest_body(product, guestEmail=None, guestName=None), client=client).status_code == 201


def test_a_present_but_invalid_token_checks_out_as_a_guest(place, api_client, product):
    # POST /orders is public: a stale token is no credential (the shops log out on any 401),
    # so the order is a guest's and needs the guest's email.
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = place(guest_body(product), client=api_client)
    assert response.status_code == 201
    assert response.json()["userId"] is None
    assert stock_of(product.variant_id) == 9
    without_email = guest_body(product)
    del without_email["guestEmail"]
    assert place(without_email, client=api_client).status_code == 400


def test_duplicate_lines_are_merged(place, product):
    body = guest_body(product, quantity=2)
    body["items"].append(dict(body["items"][0], quantity=3))
    response = place(body)
    assert response.status_code == 201
    assert [(i["variantId"], i["quantity"]) for i in response.json()["items"]] == [(product.variant_id, 5)]
    assert stock_of(product.variant_id) == 5


BAD_BODIES = {
    "no items": lambda b: b.update(items=[]),
    "items not a list": lambda b: b.update(items="abc"),
    "quantity zero": lambda b: b["items"][0].update(quantity=0),
    "quantity negative": lambda b: b["items"][0].update(quantity=-1),
    "quantity too large": lambda b: b["items"][0].update(quantity=1001),
    "quantity fraction": lambda b: b["items"][0].update(quantity=1.5),
    "quantity boolean": lambda b: b["items"][0].update(quantity=True),
    "quantity text": lambda b: b["items"][0].update(quantity="two"),
    "productId not a uuid": lambda b: b["items"][0].update(productId="nope"),
    "variantId missing": lambda b: b["items"][0].pop("variantId"),
    "phone missing": lambda b: b.pop("phone"),
    "phone blank": lambda b: b.update(phone=" "),
    "phone letters": lambda b: b.update(phone="call me maybe"),
    "phone too short": lambda b: b.update(phone="123"),
    "email missing for a guest": lambda b: b.pop("guestEmail"),
    "email malformed": lambda b: b.update(guestEmail="jane@"),
    "guest name missing": lambda b: b.update(guestName=""),
    "address not an object": lambda b: b.update(shippingAddress="1 rue de la Paix"),
    "address without city": lambda b: b["shippingAddress"].pop("city"),
    "address with blank country": lambda b: b["shippingAddress"].update(country=""),
    "address with blank last name": lambda b: b["shippingAddress"].update(lastName=" "),
    "address with null street": lambda b: b["shippingAddress"].update(address=None),
    "address without city, blank first name": lambda b: b["shippingAddress"].update(city="", firstName=""),
    "address with a too long first name": lambda b: b["shippingAddress"].update(firstName="x" * 101),
    "address with a too long postal code": lambda b: b["shippingAddress"].update(postalCode="1" * 21),
    "payment method unknown": lambda b: b.update(paymentMethod="BITCOIN"),
    "payment method missing": lambda b: b.pop("paymentMethod"),
    "items and cartId": lambda b: b.update(cartId=str(uuid.uuid4())),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_input_is_a_400_and_takes_nothing(place, product, case):
    body = guest_body(product)
    BAD_BODIES[case](body)
    response = place(body)
    assert response.status_code == 400, (case, response.json())
    assert response.json()["message"]
    assert stock_of(product.variant_id) == 10
    assert Order.objects.count() == 0


def test_a_body_that_is_not_an_object_is_a_400(place):
    assert place([1, 2]).status_code == 400


def test_unknown_variant_is_a_404(place, product):
    body = guest_body(product)
    body["items"][0]["variantId"] = str(uuid.uuid4())
    response = place(body)
    assert response.status_code == 404


def test_variant_of_another_product_is_a_404(place, product):
    other = make_product()
    body = guest_body(product)
    body["items"][0]["variantId"] = other.variant_id
    assert place(body).status_code == 404
    assert stock_of(other.variant_id) == 10


def test_inactive_product_is_a_409_and_no_other_line_is_taken(place, product):
    hidden = make_product()
    set_active(hidden.id, False)
    body = guest_body(product)
    body["items"].append({"productId": hidden.id, "variantId": hidden.variant_id, "quantity": 1})
    assert place(body).status_code == 409
    assert stock_of(product.variant_id) == 10


def test_beyond_stock_is_a_409_all_or_nothing(place):
    plenty = make_product(stock=10)
    scarce = make_product(stock=1)
    body = guest_body(plenty, quantity=4)
    body["items"].append({"productId": scarce.id, "variantId": scarce.variant_id, "quantity": 2})
    response = place(body)
    assert response.status_code == 409
    assert response.json()["available"] == 1
    assert stock_of(plenty.variant_id) == 10
    assert stock_of(scarce.variant_id) == 1
    assert Order.objects.count() == 0


def test_a_total_beyond_what_an_order_can_hold_is_a_400_and_takes_nothing(place):
    dear = make_product(price="9999999999.99", stock=5)
    response = place(guest_body(dear, quantity=1))
    assert response.status_code == 400, response.json()
    assert "exceeds the maximum of 9999999999.99" in response.json()["message"]
    assert stock_of(dear.variant_id) == 5
    assert Order.objects.count() == 0
    near = make_product(price="4999999999.00", stock=5)
    response = place(guest_body(near, quantity=1))
    assert response.status_code == 201, response.json()
    assert Order.objects.get().total_amount == Decimal("4999999999.00") + services.shipping_cost()


def test_reservation_refused_inside_the_transaction_leaves_everything_unchanged(place, monkeypatch):
    """Stock gone between the pre-check and the reservation: the 409 comes from reserve_stock."""
    plenty = make_product(stock=10)
    scarce = make_product(stock=1)
    body = guest_body(plenty, quantity=4)
    body["items"].append({"productId": scarce.id, "variantId": scarce.variant_id, "quantity": 1})
    real = services._snapshots_for

    def stale(lines):
        snaps = real(lines)
        from apps.catalog.services import adjust_stock

        adjust_stock(scarce.variant_id, -1, "ADMIN_UPDATE", reason="sold elsewhere")
        return snaps

    monkeypatch.setattr(services, "_snapshots_for", stale)
    assert place(body).status_code == 409
    assert stock_of(plenty.variant_id) == 10
    assert Order.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_shared_database_checkout_is_one_transaction_without_savepoints(place):
    """The reservation joins the order's transaction directly: a failure abandons both anyway."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    product = make_product(stock=10)
    with CaptureQueriesContext(connections[alias_for("orders")]) as queries:
        assert place(guest_body(product, quantity=2)).status_code == 201
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    # The checkout's own transaction; the inline consumers run theirs after it commits.
    checkout = statements[statements.index("BEGIN") : statements.index("COMMIT")]
    assert "INSERT" in checkout, checkout
    if services.shares_transaction():
        assert "UPDATE" in checkout, checkout  # the stock, in the same transaction as the order
    assert "SAVEPOINT" not in checkout, checkout
    assert stock_of(product.variant_id) == 8


@pytest.mark.parametrize("shape", ["actual", "split-path"])
def test_failure_after_the_reservation_leaves_stock_unchanged(place, monkeypatch, shape):
    """The order write fails after the stock was taken: one transaction rolls both back (shared
    database), or the reservation is compensated (split path, exercised in every shape)."""
    product = make_product(stock=10)
    if shape == "split-path":
        monkeypatch.setattr(services, "shares_transaction", lambda: False)
    calls = []

    def boom(*args, **kwargs):
        calls.append(args[0])
        raise RuntimeError("the orders database went away")

    monkeypatch.setattr(services, "_write_order", boom)
    response = place(guest_body(product, quantity=3))
    assert response.status_code == 500
    assert calls, "the failure must happen after the reservation"
    assert stock_of(product.variant_id) == 10
    assert Order.objects.count() == 0
    net = sum(m.change_quantity for m in movements_of(product.variant_id) if m.related_order_id == calls[0])
    assert net == 0
