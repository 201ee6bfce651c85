"""The store front's cart journey, call by call as the shop makes them (original-api.md §5)."""

import pytest
from rest_framework.test import APIClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cart_backend")]


def test_guest_shops_registers_and_keeps_the_cart(catalog):
    mug = catalog.variant(price="12.50", stock=4)
    pot = catalog.variant(price="3.10", stock=10)
    shop = APIClient()

    # No cart id stored yet: POST /carts (no body), keep its id.
    cart_id = shop.post("/carts").json()["id"]
    # Add to cart with the shop's payload (price as the variant's string, name, image, attributes).
    for item, quantity in ((mug, 1), (pot, 2), (mug, 1)):
        response = shop.post(
            f"/carts/{cart_id}/items",
            {
                "productId": item.product_id,
                "variantId": item.variant_id,
                "quantity": quantity,
                "price": "0.50",
                "name": "whatever",
                "imageUrl": None,
                "attributes": {"color": "red"},
            },
            format="json",
        )
        assert response.status_code == 200, response.content
    cart = response.json()
    assert cart["subtotal"] == "31.20" and cart["itemCount"] == 4

    # Register, then GET /auth/me, then associate the guest cart.
    token = shop.post(
        "/auth/register", {"name": "Ada L", "email": "ada@example.com", "password": "s3cret-pass"}, format="json"
    ).json()["token"]
    shop.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = shop.get("/auth/me").json()
    response = shop.post("/carts/associate", {"cartId": cart_id, "userId": me["id"]}, format="json")
    assert response.status_code == 200
    assert response.json()["userId"] == me["id"]

    # The shop keeps its stored cart id: it still names the cart, now the user's.
    line = next(i for i in shop.get(f"/carts/{cart_id}").json()["items"] if i["variantId"] == mug.variant_id)
    assert shop.put(f"/carts/{cart_id}/items/{line['itemId']}", {"quantity": 3}, format="json").status_code == 200
    assert shop.delete(f"/carts/{cart_id}/items/{line['itemId']}").json()["subtotal"] == "6.20"

    # Logged out (token dropped), the stored id answers 404: the shop clears it and starts again.
    logged_out = APIClient()
    assert logged_out.get(f"/carts/{cart_id}").status_code == 404

    # After an order the shop deletes the cart.
    assert shop.delete(f"/carts/{cart_id}").status_code == 204
