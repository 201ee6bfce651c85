"""Every /carts route of the contract, on the file cache and on real Redis (``cart_backend``)."""

import uuid

import pytest
from django.conf import settings

from apps.cart import services
from apps.cart.store import get_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cart_backend")]


def new_cart(api_client):
    response = api_client.post("/carts")
    assert response.status_code == 201, response.content
    return response.json()


def add(api_client, cart_id, item, quantity=1, **extra):
    body = {"productId": item.product_id, "variantId": item.variant_id, "quantity": quantity, **extra}
    return api_client.post(f"/carts/{cart_id}/items", body, format="json")


# --- create / read ------------------------------------------------------------------------------


def test_post_creates_an_empty_cart_stored_under_its_key(api_client):
    cart = new_cart(api_client)
    uuid.UUID(cart["id"])
    assert cart["userId"] is None
    assert cart["items"] == []
    assert cart["subtotal"] == "0.00"
    assert cart["itemCount"] == 0
    assert cart["createdAt"].endswith("Z") and cart["updatedAt"].endswith("Z")
    assert get_store().read(f"cart:{cart['id']}")["id"] == cart["id"]


def test_post_with_cart_id_returns_the_existing_cart(api_client):
    cart = new_cart(api_client)
    again = api_client.post(f"/carts?cartId={cart['id']}")
    assert again.status_code == 200
    assert again.json()["id"] == cart["id"]


def test_post_with_unknown_cart_id_creates_it_and_bad_id_is_400(api_client):
    wanted = str(uuid.uuid4())
    response = api_client.post(f"/carts?cartId={wanted}")
    assert response.status_code == 201
    assert response.json()["id"] == wanted
    bad = api_client.post("/carts?cartId=not-a-uuid")
    assert bad.status_code == 400
    assert "cartId" in bad.json()["message"]


def test_post_ignores_a_body_user_id(api_client, make_user):
    other = make_user()
    response = api_client.post("/carts", {"userId": str(other.id)}, format="json")
    assert response.status_code == 201
    assert response.json()["userId"] is None


def test_get_unknown_cart_yields_a_new_empty_cart_201_then_200(api_client):
    cart_id = str(uuid.uuid4())
    first = api_client.get(f"/carts/{cart_id}")
    assert first.status_code == 201
    assert first.json()["id"] == cart_id and first.json()["items"] == []
    second = api_client.get(f"/carts/{cart_id}")
    assert second.status_code == 200
    assert second.json()["createdAt"] == first.json()["createdAt"]


def test_get_with_a_malformed_id_is_404(api_client):
    response = api_client.get("/carts/not-a-uuid")
    assert response.status_code == 404
    assert response.json() == {"message": "Cart not found."}


# --- add ------------------------------------------------------------------------------------------


def test_add_takes_name_price_image_attributes_from_the_catalogue(api_client, catalog):
    item = catalog.variant(price="19.90", stock=10, attributes={"color": "blue"})
    cart = new_cart(api_client)
    response = add(
        api_client, cart["id"], item, 2, price="0.01", name="Fake", imageUrl="http://evil/x.png", attributes={"x": 1}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    (line,) = body["items"]
    assert line["price"] == "19.90"
    assert line["name"] == item.name
    assert line["imageUrl"] == item.image_url
    assert line["attributes"] == {"color": "blue"}
    assert line["productId"] == item.product_id and line["variantId"] == item.variant_id
    assert line["quantity"] == 2
    assert line["lineTotal"] == "39.80"
    assert line["priceChanged"] is False and line["previousPrice"] is None
    assert line["availableQuantity"] == 10 and line["stockIssue"] is None
    uuid.UUID(line["itemId"])
    assert body["subtotal"] == "39.80"
    assert body["itemCount"] == 2
    stored = get_store().read(f"cart:{cart['id']}")
    assert stored["items"][0]["price"] == "19.90"


def test_same_variant_twice_adds_up_on_one_line(api_client, catalog):
    first, second = catalog.variant(price="10.00"), catalog.variant(price="2.50", stock=50)
    cart = new_cart(api_client)
    add(api_client, cart["id"], first, 1)
    add(api_client, cart["id"], second, 4)
    body = add(api_client, cart["id"], first, 2).json()
    assert [(i["variantId"], i["quantity"]) for i in body["items"]] == [(first.variant_id, 3), (second.variant_id, 4)]
    assert body["subtotal"] == "40.00"
    assert body["itemCount"] == 7


def test_add_to_an_unknown_cart_creates_it(api_client, catalog):
    item = catalog.variant()
    cart_id = str(uuid.uuid4())
    response = add(api_client, cart_id, item, 1)
    assert response.status_code == 200
    assert response.json()["id"] == cart_id
    assert api_client.get(f"/carts/{cart_id}").status_code == 200


def test_add_without_product_id_is_accepted(api_client, catalog):
    item = catalog.variant()
    cart = new_cart(api_client)
    response = api_client.post(
        f"/carts/{cart['id']}/items", {"variantId": item.variant_id, "quantity": "2"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 2


@pytest.mark.parametrize(
    "quantity",
    [0, -1, 1.5, "1.5", "abc", "", None, True, [1], {"n": 1}, 100, 10**12, "1e3"],
)
def test_add_with_a_bad_quantity_is_400(api_client, catalog, quantity):
    item = catalog.variant(stock=1000)
    cart = new_cart(api_client)
    response = add(api_client, cart["id"], item, quantity)
    assert response.status_code == 400, (quantity, response.content)
    assert "quantity" in response.json()["message"]
    assert get_store().read(f"cart:{cart['id']}")["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": 1},
        {"variantId": "nope", "quantity": 1},
        {"variantId": 12, "quantity": 1},
        {"variantId": str(uuid.uuid4()), "productId": "x", "quantity": 1},
    ],
)
def test_add_with_bad_ids_is_400(api_client, body):
    cart = new_cart(api_client)
    response = api_client.post(f"/carts/{cart['id']}/items", body, format="json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid input.")


def test_add_with_malformed_json_or_a_non_object_is_400(api_client):
    cart = new_cart(api_client)
    response = api_client.post(f"/carts/{cart['id']}/items", data="{bad json", content_type="application/json")
    assert response.status_code == 400
    assert "message" in response.json()
    response = api_client.post(f"/carts/{cart['id']}/items", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_add_unknown_inactive_or_mismatched_variant_is_404(api_client, catalog):
    cart = new_cart(api_client)
    unknown = api_client.post(
        f"/carts/{cart['id']}/items", {"variantId": str(uuid.uuid4()), "quantity": 1}, format="json"
    )
    assert unknown.status_code == 404
    assert unknown.json()["message"] == services.VARIANT_NOT_FOUND
    inactive = catalog.variant(active=False)
    assert add(api_client, cart["id"], inactive, 1).status_code == 404
    item, other = catalog.variant(), catalog.variant()
    mismatched = api_client.post(
        f"/carts/{cart['id']}/items",
        {"productId": other.product_id, "variantId": item.variant_id, "quantity": 1},
        format="json",
    )
    assert mismatched.status_code == 404
    assert get_store().read(f"cart:{cart['id']}")["items"] == []


def test_add_for_an_unknown_variant_does_not_create_the_cart(api_client):
    cart_id = str(uuid.uuid4())
    response = api_client.post(
        f"/carts/{cart_id}/items", {"variantId": str(uuid.uuid4()), "quantity": 1}, format="json"
    )
    assert response.status_code == 404
    assert get_store().read(f"cart:{cart_id}") is None


def test_add_beyond_stock_is_409_with_the_available_quantity(api_client, catalog):
    item = catalog.variant(stock=3)
    cart = new_cart(api_client)
    response = add(api_client, cart["id"], item, 4)
    assert response.status_code == 409
    body = response.json()
    assert "3 available" in body["message"]
    assert body["availableQuantity"] == 3
    assert add(api_client, cart["id"], item, 2).status_code == 200
    response = add(api_client, cart["id"], item, 2)
    assert response.status_code == 409
    assert "3 available" in response.json()["message"] and "2 already in your cart" in response.json()["message"]
    assert get_store().read(f"cart:{cart['id']}")["items"][0]["quantity"] == 2


def test_adding_up_beyond_the_line_maximum_is_400(api_client, catalog):
    item = catalog.variant(stock=1000)
    cart = new_cart(api_client)
    assert add(api_client, cart["id"], item, 60).status_code == 200
    response = add(api_client, cart["id"], item, 60)
    assert response.status_code == 400
    assert "at most 99" in response.json()["message"]


def test_the_number_of_lines_is_bounded(api_client, catalog, settings):
    settings.CART_MAX_LINES = 2
    cart = new_cart(api_client)
    for _ in range(2):
        assert add(api_client, cart["id"], catalog.variant(), 1).status_code == 200
    response = add(api_client, cart["id"], catalog.variant(), 1)
    assert response.status_code == 400
    assert "at most 2 different items" in response.json()["message"]


# --- update / remove / clear / delete -----------------------------------------------------------


def cart_with(api_client, catalog, quantity=2, **variant):
    item = catalog.variant(**variant)
    cart = new_cart(api_client)
    body = add(api_client, cart["id"], item, quantity).json()
    return body, item, body["items"][0]["itemId"]


def test_put_sets_the_quantity(api_client, catalog):
    cart, item, item_id = cart_with(api_client, catalog, 2, price="5.00")
    response = api_client.put(f"/carts/{cart['id']}/items/{item_id}", {"quantity": 5}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["items"][0]["quantity"] == 5
    assert body["subtotal"] == "25.00"
    assert body["updatedAt"] >= cart["updatedAt"]


def test_put_zero_removes_the_line(api_client, catalog):
    cart, _, item_id = cart_with(api_client, catalog)
    response = api_client.put(f"/carts/{cart['id']}/items/{item_id}", {"quantity": 0}, format="json")
    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize("body", [{"quantity": -1}, {"quantity": 2.5}, {"quantity": "x"}, {}, {"quantity": 100}])
def test_put_with_a_bad_quantity_is_400(api_client, catalog, body):
    cart, _, item_id = cart_with(api_client, catalog)
    response = api_client.put(f"/carts/{cart['id']}/items/{item_id}", body, format="json")
    assert response.status_code == 400
    assert "quantity" in response.json()["message"]


def test_put_beyond_stock_is_409(api_client, catalog):
    cart, _, item_id = cart_with(api_client, catalog, 1, stock=4)
    response = api_client.put(f"/carts/{cart['id']}/items/{item_id}", {"quantity": 5}, format="json")
    assert response.status_code == 409
    assert response.json()["availableQuantity"] == 4
    assert "4 available" in response.json()["message"]


def test_put_on_a_line_whose_product_was_withdrawn_is_409(api_client, catalog):
    cart, item, item_id = cart_with(api_client, catalog, 1)
    catalog.deactivate(item)
    response = api_client.put(f"/carts/{cart['id']}/items/{item_id}", {"quantity": 2}, format="json")
    assert response.status_code == 409
    assert "no longer available" in response.json()["message"]
    # Removing it still works.
    response = api_client.put(f"/carts/{cart['id']}/items/{item_id}", {"quantity": 0}, format="json")
    assert response.status_code == 200 and response.json()["items"] == []


def test_put_and_delete_unknown_item_or_cart_are_404(api_client, catalog):
    cart, _, item_id = cart_with(api_client, catalog)
    missing_item = str(uuid.uuid4())
    response = api_client.put(f"/carts/{cart['id']}/items/{missing_item}", {"quantity": 1}, format="json")
    assert response.status_code == 404
    assert response.json() == {"message": "Item not found in cart."}
    assert api_client.delete(f"/carts/{cart['id']}/items/{missing_item}").status_code == 404
    missing_cart = str(uuid.uuid4())
    response = api_client.put(f"/carts/{missing_cart}/items/{item_id}", {"quantity": 1}, format="json")
    assert response.status_code == 404
    assert response.json() == {"message": "Cart not found."}
    assert api_client.delete(f"/carts/{missing_cart}/items/{item_id}").status_code == 404
    assert api_client.delete(f"/carts/{missing_cart}/items").status_code == 404
    # None of these created a cart.
    assert get_store().read(f"cart:{missing_cart}") is None


def test_delete_item_returns_the_cart_without_it(api_client, catalog):
    cart, _, item_id = cart_with(api_client, catalog)
    other = catalog.variant()
    add(api_client, cart["id"], other, 1)
    response = api_client.delete(f"/carts/{cart['id']}/items/{item_id}")
    assert response.status_code == 200
    assert [i["variantId"] for i in response.json()["items"]] == [other.variant_id]


def test_clear_empties_the_cart_and_accepts_a_json_body(api_client, catalog):
    cart, _, _ = cart_with(api_client, catalog)
    response = api_client.delete(f"/carts/{cart['id']}/items", {"whatever": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["subtotal"] == "0.00"
    assert api_client.get(f"/carts/{cart['id']}").status_code == 200


def test_delete_cart_is_204_then_404(api_client, catalog):
    cart, _, _ = cart_with(api_client, catalog)
    response = api_client.delete(f"/carts/{cart['id']}")
    assert response.status_code == 204
    assert response.content == b""
    again = api_client.delete(f"/carts/{cart['id']}")
    assert again.status_code == 404
    assert again.json() == {"message": "Cart not found or already deleted."}
    assert api_client.delete("/carts/not-a-uuid").status_code == 404
    # As the contract says, reading it now yields a new empty cart.
    response = api_client.get(f"/carts/{cart['id']}")
    assert response.status_code == 201 and response.json()["items"] == []


# --- current prices and stock ---------------------------------------------------------------------


def test_get_shows_current_prices_and_flags_changes(api_client, catalog):
    cart, item, _ = cart_with(api_client, catalog, 2, price="19.90", stock=10)
    catalog.set_price(item, "25.00")
    body = api_client.get(f"/carts/{cart['id']}").json()
    (line,) = body["items"]
    assert line["price"] == "25.00"
    assert line["priceChanged"] is True and line["previousPrice"] == "19.90"
    assert line["lineTotal"] == "50.00"
    assert body["subtotal"] == "50.00"
    assert body["hasIssues"] is True
    # Adding the variant again takes the current price: the flag goes.
    body = add(api_client, cart["id"], item, 1).json()
    assert body["items"][0]["priceChanged"] is False and body["items"][0]["previousPrice"] is None
    assert body["subtotal"] == "75.00"


def test_get_flags_stock_below_the_quantity(api_client, catalog):
    cart, item, _ = cart_with(api_client, catalog, 3, stock=10)
    catalog.set_stock(item, 1)
    line = api_client.get(f"/carts/{cart['id']}").json()["items"][0]
    assert line["availableQuantity"] == 1 and line["stockIssue"] == "INSUFFICIENT_STOCK"
    catalog.set_stock(item, 0)
    line = api_client.get(f"/carts/{cart['id']}").json()["items"][0]
    assert line["availableQuantity"] == 0 and line["stockIssue"] == "OUT_OF_STOCK"


def test_withdrawn_or_deleted_products_are_flagged_and_left_out_of_the_subtotal(api_client, catalog):
    cart, gone, _ = cart_with(api_client, catalog, 1, price="10.00")
    kept = catalog.variant(price="3.00")
    add(api_client, cart["id"], kept, 1)
    catalog.deactivate(gone)
    body = api_client.get(f"/carts/{cart['id']}").json()
    assert body["items"][0]["stockIssue"] == "UNAVAILABLE" and body["items"][0]["price"] == "10.00"
    assert body["subtotal"] == "3.00" and body["itemCount"] == 2
    catalog.delete(gone)
    body = api_client.get(f"/carts/{cart['id']}").json()
    assert body["items"][0]["stockIssue"] == "UNAVAILABLE"
    assert body["items"][0]["name"] == gone.name
    assert body["subtotal"] == "3.00"


def test_reading_a_cart_costs_two_queries_whatever_its_size(api_client, catalog, django_assert_max_num_queries):
    cart = new_cart(api_client)
    for _ in range(6):
        add(api_client, cart["id"], catalog.variant(), 1)
    with django_assert_max_num_queries(2):
        response = api_client.get(f"/carts/{cart['id']}")
    assert len(response.json()["items"]) == 6


# --- owners ---------------------------------------------------------------------------------------


def owned_cart(client_as, api_client, catalog):
    client, user = client_as("Customer")
    cart = new_cart(api_client)
    add(api_client, cart["id"], catalog.variant(), 1)
    response = client.post("/carts/associate", {"cartId": cart["id"], "userId": str(user.id)}, format="json")
    assert response.status_code == 200, response.content
    return client, user, response.json()


def test_an_owned_cart_is_invisible_to_others(api_client, client_as, catalog):
    owner, user, cart = owned_cart(client_as, api_client, catalog)
    stranger, _ = client_as("Customer")
    item_id = cart["items"][0]["itemId"]
    for client in (api_client, stranger):
        assert client.get(f"/carts/{cart['id']}").status_code == 404
        assert client.post(f"/carts?cartId={cart['id']}").status_code == 404
        assert add(client, cart["id"], catalog.variant(), 1).status_code == 404
        assert client.put(f"/carts/{cart['id']}/items/{item_id}", {"quantity": 2}, format="json").status_code == 404
        assert client.delete(f"/carts/{cart['id']}/items/{item_id}").status_code == 404
        assert client.delete(f"/carts/{cart['id']}/items").status_code == 404
        assert client.delete(f"/carts/{cart['id']}").status_code == 404
    response = owner.get(f"/carts/{cart['id']}")
    assert response.status_code == 200
    assert response.json()["userId"] == str(user.id)
    assert response.json()["items"] == cart["items"]


def test_an_invalid_token_is_no_credential_on_public_cart_routes(api_client):
    # The shops log out on any 401: a stale token on a public route must not cause one.
    cart = new_cart(api_client)
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = api_client.get(f"/carts/{cart['id']}")
    assert response.status_code == 200
    assert response.json()["id"] == cart["id"] and response.json()["userId"] is None


def test_the_owner_with_an_expired_token_is_asked_to_log_in_again(api_client, client_as, catalog, token_for):
    """Not "cart not found": the shop would forget the cart; a 401 makes it ask for a login."""
    import time

    import jwt
    from django.conf import settings

    owner, user, cart = owned_cart(client_as, api_client, catalog)
    claims = jwt.decode(token_for(user), options={"verify_signature": False})
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    expired = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {expired}")
    item_id = cart["items"][0]["itemId"]
    responses = [
        api_client.get(f"/carts/{cart['id']}"),
        add(api_client, cart["id"], catalog.variant(), 1),
        api_client.put(f"/carts/{cart['id']}/items/{item_id}", {"quantity": 2}, format="json"),
        api_client.delete(f"/carts/{cart['id']}"),
    ]
    for response in responses:
        assert response.status_code == 401, response.content
        assert response.json() == {"message": "Invalid or expired token"}
    assert owner.get(f"/carts/{cart['id']}").json()["items"] == cart["items"]


def test_associate_with_an_invalid_token_is_401_with_the_reason(api_client):
    cart = new_cart(api_client)
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = api_client.post("/carts/associate", {"cartId": cart["id"]}, format="json")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or expired token"}


def test_signed_in_post_returns_the_users_cart(client_as):
    client, user = client_as("Customer")
    first = client.post("/carts")
    assert first.status_code == 201
    assert first.json()["userId"] == str(user.id)
    second = client.post("/carts")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert get_store().read(f"cart:user:{user.id}") == first.json()["id"]


def test_owner_deleting_the_cart_drops_the_pointer(api_client, client_as, catalog):
    owner, user, cart = owned_cart(client_as, api_client, catalog)
    assert owner.delete(f"/carts/{cart['id']}").status_code == 204
    assert get_store().read(f"cart:user:{user.id}") is None


# --- associate --------------------------------------------------------------------------------------


def test_associate_requires_a_token(api_client):
    cart = new_cart(api_client)
    response = api_client.post("/carts/associate", {"cartId": cart["id"], "userId": str(uuid.uuid4())}, format="json")
    assert response.status_code == 401


def test_associate_for_another_user_is_403(api_client, client_as):
    client, _ = client_as("Customer")
    cart = new_cart(api_client)
    response = client.post("/carts/associate", {"cartId": cart["id"], "userId": str(uuid.uuid4())}, format="json")
    assert response.status_code == 403
    assert get_store().read(f"cart:{cart['id']}")["userId"] is None


@pytest.mark.parametrize("body", [{}, {"cartId": "nope"}, {"cartId": 5}])
def test_associate_with_a_bad_cart_id_is_400(client_as, body):
    client, _ = client_as("Customer")
    response = client.post("/carts/associate", body, format="json")
    assert response.status_code == 400
    assert "cartId" in response.json()["message"]


@pytest.mark.parametrize("user_id", [5, 1.5, True, ["x"]], ids=repr)
def test_associate_with_a_user_id_that_is_not_a_string_is_400(api_client, client_as, user_id):
    client, _ = client_as("Customer")
    cart = new_cart(api_client)
    response = client.post("/carts/associate", {"cartId": cart["id"], "userId": user_id}, format="json")
    assert response.status_code == 400
    assert "userId" in response.json()["errors"]


def test_associate_an_unknown_cart_without_a_user_cart_is_404(client_as):
    client, _ = client_as("Customer")
    response = client.post("/carts/associate", {"cartId": str(uuid.uuid4())}, format="json")
    assert response.status_code == 404


def test_associate_gives_the_guest_cart_to_the_user(api_client, client_as, catalog):
    client, user = client_as("Customer")
    cart = new_cart(api_client)
    add(api_client, cart["id"], catalog.variant(), 2)
    response = client.post("/carts/associate", {"cartId": cart["id"], "userId": str(user.id)}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == cart["id"] and body["userId"] == str(user.id)
    assert body["items"][0]["quantity"] == 2
    assert get_store().read(f"cart:user:{user.id}") == cart["id"]
    # Idempotent.
    again = client.post("/carts/associate", {"cartId": cart["id"]}, format="json")
    assert again.status_code == 200 and again.json()["items"] == body["items"]


def test_associate_merges_with_the_users_cart(api_client, client_as, catalog):
    client, user = client_as("Customer")
    shared = catalog.variant(price="4.00", stock=5)
    mine_only = catalog.variant(price="1.00")
    guest_only = catalog.variant(price="2.00")
    # The user's cart from an earlier session.
    users = client.post("/carts").json()
    add(client, users["id"], shared, 3)
    add(client, users["id"], mine_only, 1)
    # A new guest cart on another device.
    guest = new_cart(api_client)
    add(api_client, guest["id"], shared, 4)
    add(api_client, guest["id"], guest_only, 2)

    response = client.post("/carts/associate", {"cartId": guest["id"], "userId": str(user.id)}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == guest["id"] and body["userId"] == str(user.id)
    quantities = {i["variantId"]: i["quantity"] for i in body["items"]}
    # 3 + 4 = 7, capped by the stock (5); the other lines of both carts are kept.
    assert quantities == {shared.variant_id: 5, guest_only.variant_id: 2, mine_only.variant_id: 1}
    assert body["subtotal"] == "25.00"
    # One cart remains: the user's previous cart is gone, the pointer names the merged one.
    assert get_store().read(f"cart:{users['id']}") is None
    assert get_store().read(f"cart:user:{user.id}") == guest["id"]
    assert client.post("/carts").json()["id"] == guest["id"]


def test_associate_when_the_guest_cart_is_gone_returns_the_users_cart(client_as):
    client, user = client_as("Customer")
    users = client.post("/carts").json()
    response = client.post("/carts/associate", {"cartId": str(uuid.uuid4()), "userId": str(user.id)}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == users["id"]


def test_associate_someone_elses_cart_is_404(api_client, client_as, catalog):
    _, _, cart = owned_cart(client_as, api_client, catalog)
    thief, _ = client_as("Customer")
    response = thief.post("/carts/associate", {"cartId": cart["id"]}, format="json")
    assert response.status_code == 404


# --- the interface for orders -----------------------------------------------------------------------


def test_get_cart_and_delete_cart_services(api_client, catalog):
    cart, item, _ = cart_with(api_client, catalog, 2, price="7.25")
    shown = services.get_cart(cart["id"])
    assert shown["subtotal"] == "14.50"
    assert shown["items"][0]["variantId"] == item.variant_id
    assert services.get_cart(str(uuid.uuid4())) is None
    assert services.get_cart("garbage") is None
    assert services.delete_cart(cart["id"]) is True
    assert services.get_cart(cart["id"]) is None
    assert services.delete_cart(cart["id"]) is False


def test_ttl_setting_is_seven_days():
    assert settings.CART_TTL_SECONDS == 7 * 24 * 3600
