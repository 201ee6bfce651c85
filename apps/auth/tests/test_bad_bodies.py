"""Bodies the API must refuse with a clear 4xx JSON answer, never a 500."""

import json

import pytest

from apps.auth.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login", "/auth/validate", "/auth/token/refresh"])
def test_oversized_body_is_413(api_client, path):
    body = json.dumps({"name": "x" * (1024 * 1024 + 1), "email": "a@example.com", "password": "correct-horse"})
    response = api_client.post(path, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"message": "Request body too large."}
    assert User.objects.count() == 0


def test_oversized_body_on_a_protected_route_is_413(client_as, make_user):
    client, _ = client_as("ADMIN")
    other = make_user()
    body = json.dumps({"name": "y" * (1024 * 1024 + 1)})
    response = client.put(f"/auth/users/{other.id}", body, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("raw", ["{bad json", '{"email": "a@example.com",}', "", "null", '"just a string"', "[]"])
def test_malformed_or_non_object_json_is_400(api_client, raw):
    response = api_client.post("/auth/register", raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"]


def test_malformed_json_on_login_and_roles(api_client, client_as):
    assert api_client.post("/auth/login", "{", content_type="application/json").status_code == 400
    client, _ = client_as("ADMIN")
    response = client.post("/auth/roles", "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed request body")


def test_form_encoded_login_also_works(api_client, make_user):
    """The browsable API posts forms; the same validation applies."""
    make_user(email="sam@example.com", password="s3cret-pass")
    response = api_client.post("/auth/login", {"email": "sam@example.com", "password": "s3cret-pass"})
    assert response.status_code == 200
