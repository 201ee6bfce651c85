"""Every protected catalogue route: 401 without a token, 403 without the permission."""

import pytest

pytestmark = pytest.mark.django_db

ID = "8d0c5a51-6f1e-4c1c-9d55-0b7e4b3c2a10"
ROUTES = [
    ("post", "/products", "create:product"),
    ("post", "/products/bulk", "create:product"),
    ("put", f"/products/{ID}", "update:product"),
    ("delete", f"/products/{ID}", "delete:product"),
    ("post", f"/products/{ID}/categories", "update:product"),
    ("delete", f"/products/{ID}/categories", "update:product"),
    ("post", f"/products/{ID}/images", "update:product"),
    ("delete", f"/products/{ID}/images", "update:product"),
    ("post", f"/products/{ID}/variants", "update:product"),
    ("put", f"/products/{ID}/variants/{ID}", "update:product"),
    ("delete", f"/products/{ID}/variants/{ID}", "update:product"),
    ("post", "/products/categories", "create:category"),
    ("post", "/products/categories/bulk", "create:category"),
    ("put", f"/products/categories/{ID}", "update:category"),
    ("delete", f"/products/categories/{ID}", "delete:category"),
    ("post", f"/products/stock/adjust/{ID}", "adjust:stock"),
    ("get", f"/products/stock/history/{ID}", "adjust:stock"),
    ("put", f"/products/variants/{ID}", "update:product"),
    ("delete", f"/products/variants/{ID}", "update:product"),
]


@pytest.mark.parametrize("method, url, permission", ROUTES)
def test_anonymous_gets_401(api_client, method, url, permission):
    response = getattr(api_client, method)(url, {}, format="json")
    assert response.status_code == 401
    assert response.json()["message"]


@pytest.mark.parametrize("method, url, permission", ROUTES)
def test_without_permission_gets_403(client_as, method, url, permission):
    client, _ = client_as("Customer")
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 403
    assert response.json()["message"].startswith("Forbidden")


def test_supervisor_may_adjust_stock_but_not_edit_products(client_as, shirt):
    client, _ = client_as("Supervisor")
    variant = shirt.variants.get(stock_quantity=5)
    body = {"changeQuantity": 1, "type": "ADMIN_UPDATE"}
    assert client.post(f"/products/stock/adjust/{variant.id}", body, format="json").status_code == 201
    assert client.get(f"/products/stock/history/{variant.id}").status_code == 200
    assert client.put(f"/products/{shirt.id}", {"name": "x"}, format="json").status_code == 403


@pytest.mark.parametrize("url", ["/products", f"/products/id/{ID}", "/products/categories", f"/products/{ID}/variants"])
def test_reads_are_public(api_client, url):
    assert api_client.get(url).status_code in (200, 404)
