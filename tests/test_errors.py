"""The platform's error shapes, through real /auth routes: every error is a JSON
``{"message": ...}`` with the right status, never an HTML page or a stack trace."""

import pytest

pytestmark = pytest.mark.django_db


def assert_json_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in body["message"]
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/auth/login"), ("put", "/auth/register"), ("delete", "/auth/validate"), ("get", "/auth/token/refresh")],
)
def test_wrong_method_on_a_public_route_is_405(api_client, method, path):
    body = assert_json_error(getattr(api_client, method)(path), 405)
    assert method.upper() in body["message"]


def test_wrong_method_on_a_protected_route_is_405_once_authorised(client_as):
    client, _ = client_as("ADMIN")
    assert_json_error(client.patch("/auth/users", {}, format="json"), 405)
    assert_json_error(client.post("/auth/permissions", {}, format="json"), 405)
    assert_json_error(client.post("/auth/me", {}, format="json"), 405)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_unsupported_media_type_is_415(api_client, content_type):
    response = api_client.post("/auth/login", "email=a@b.co", content_type=content_type)
    body = assert_json_error(response, 415)
    assert content_type in body["message"]


def test_unsupported_media_type_on_a_protected_route(client_as):
    client, _ = client_as("ADMIN")
    assert_json_error(client.post("/auth/roles", "<role/>", content_type="application/xml"), 415)


@pytest.mark.parametrize("path", ["/auth/nope", "/auth/users/", "/auth/login/", "/auth", "/nothing/here"])
def test_unknown_route_is_404(api_client, path):
    body = assert_json_error(api_client.get(path), 404)
    assert path in body["message"]


def test_unknown_route_with_a_body_is_404_not_405(api_client):
    assert_json_error(api_client.post("/auth/signup", {"a": 1}, format="json"), 404)


@pytest.mark.parametrize("raw", ["{", '{"email": }', "[1,", "\x00\x01"])
def test_malformed_json_is_400(api_client, raw):
    body = assert_json_error(api_client.post("/auth/login", raw, content_type="application/json"), 400)
    assert body["message"].startswith("Malformed request body")


def test_validation_errors_carry_field_errors(api_client):
    body = assert_json_error(api_client.post("/auth/register", {"email": "bad"}, format="json"), 400)
    assert set(body["errors"]) >= {"name", "email", "password"}
    assert all(isinstance(v, list) and v for v in body["errors"].values())


def test_auth_errors_are_json_401_and_403(api_client, client_as):
    assert_json_error(api_client.get("/auth/users"), 401)
    client, _ = client_as("Customer")
    assert_json_error(client.get("/auth/users"), 403)


def test_an_unexpected_error_is_a_json_500_without_details(client_as, monkeypatch):
    from apps.auth import selectors

    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "permission_list", boom)
    client, _ = client_as("ADMIN")
    client.raise_request_exception = False
    body = assert_json_error(client.get("/auth/permissions"), 500)
    assert "secret" not in body["message"]


# A browser sends Accept: text/html first; errors still answer JSON (the browsable API stays
# for successful reads).
@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_errors_are_json_even_when_the_client_prefers_html(api_client, client_as, accept):
    assert_json_error(api_client.get("/auth/users", HTTP_ACCEPT=accept), 401)
    assert_json_error(api_client.get("/products?page=-1", HTTP_ACCEPT=accept), 400)
    assert_json_error(api_client.post("/auth/login", "{", content_type="application/json", HTTP_ACCEPT=accept), 400)
    customer, _ = client_as("Customer")
    assert_json_error(customer.get("/auth/roles", HTTP_ACCEPT=accept), 403)


def test_the_browsable_api_still_serves_successful_reads_to_browsers(api_client):
    response = api_client.get("/products/categories", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("fmt", ["xml", "csv", "yaml"])
def test_an_unknown_format_parameter_is_ignored(api_client, fmt):
    response = api_client.get(f"/products?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "data" in response.json()


# HEAD runs the GET handler: it must be refused exactly as GET is.
PROTECTED_READS = ["/orders", "/auth/users", "/auth/roles", "/auth/permissions", "/products/stock/history/{variant}"]


@pytest.mark.parametrize("template", PROTECTED_READS)
def test_head_is_refused_like_get(api_client, client_as, template):
    import uuid

    path = template.format(variant=uuid.uuid4())
    assert api_client.head(path).status_code == api_client.get(path).status_code == 401
    customer, _ = client_as("Customer")
    assert customer.head(path).status_code == customer.get(path).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/products?q=a%00b",
        "/products?attributes[c]=a%00b",
        "/products/sku/a%00b",
        "/products/categories/slug/a%00b",
        "/search/products?attributes[color]=re%00d",
        "/search/products?q=%00",
        "/orders?q=%00",
    ],
)
def test_a_null_character_in_the_url_is_a_400(api_client, path):
    body = assert_json_error(api_client.get(path), 400)
    assert "Null characters" in body["message"]


def test_a_form_body_with_too_many_fields_is_a_400(api_client):
    body = "&".join(f"field{i}=x" for i in range(1200))  # DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000
    response = api_client.post("/auth/login", body, content_type="application/x-www-form-urlencoded")
    assert_json_error(response, 400)
