"""JSON bodies that are syntactically JSON but that the API refuses as malformed: nesting deeper
than any real payload (the decoder would recurse until a RecursionError) and lone UTF-16
surrogates (text no database, hash or encoder can take). Each is a 400 with the malformed-body
message on every JSON route, never a 500."""

import pytest

from ecommerce.parsers import MAX_DEPTH

pytestmark = pytest.mark.django_db

DEEP_ARRAY = "[" * 2000 + "]" * 2000
DEEP_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000

# One route per app that reads a JSON body; the public ones need no token.
PUBLIC_JSON_ROUTES = [
    "/auth/login",
    "/auth/register",
    "/auth/validate",
    "/orders",
    "/orders/guest-lookup",
    "/carts/7c9e6679-7425-40de-944b-e07fc1f90ae7/items",
]


def assert_malformed(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"].startswith("Malformed request body: JSON parse error")


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", PUBLIC_JSON_ROUTES)
def test_deeply_nested_json_is_malformed_on_public_routes(api_client, path, body):
    assert_malformed(api_client.post(path, body, content_type="application/json"))


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/products"), ("post", "/products/categories"), ("post", "/auth/roles"), ("post", "/images/upload")],
)
def test_deeply_nested_json_is_malformed_on_protected_routes(client_as, method, path, body):
    client, _ = client_as("ADMIN")
    assert_malformed(getattr(client, method)(path, body, content_type="application/json"))


def test_nesting_just_beyond_the_limit_is_refused_and_at_the_limit_is_parsed(api_client):
    too_deep = '{"email": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    assert_malformed(api_client.post("/auth/login", too_deep, content_type="application/json"))
    at_limit = '{"email": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    response = api_client.post("/auth/login", at_limit, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid input.")  # parsed, then refused by validation


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "\\ud800@x.com", "password": "x"}',
        '{"email": "a@x.com", "password": "\\udfff"}',
        '{"email": "a@x.com", "password": "x", "\\ud800": 1}',
        '{"email": "a@x.com", "password": "x\\ud83d"}',
    ],
    ids=["high-in-value", "low-in-value", "in-a-key", "unpaired-high-at-end"],
)
@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_a_lone_surrogate_is_malformed(api_client, path, body):
    assert_malformed(api_client.post(path, body, content_type="application/json"))


def test_a_surrogate_pair_is_an_ordinary_character(api_client):
    body = '{"name": "Sam \\ud83d\\ude00", "email": "sam@example.com", "password": "correct-horse-42"}'
    assert api_client.post("/auth/register", body, content_type="application/json").status_code == 201
    from apps.auth.models import User

    assert User.objects.get(email="sam@example.com").name == "Sam \U0001f600"


def test_a_lone_surrogate_on_validate_is_malformed(api_client):
    assert_malformed(api_client.post("/auth/validate", '{"token": "\\ud800"}', content_type="application/json"))


def test_the_renderer_renders_whatever_the_parser_accepts_inside_a_response():
    """A parsed body may come back inside a response (an echoed field, an error): the parser's
    depth limit leaves the renderer's own limit (orjson: 254 levels) well out of reach."""
    import io

    from ecommerce.parsers import JSONParser
    from ecommerce.renderers import JSONRenderer

    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    data = JSONParser().parse(io.BytesIO(deepest.encode()))
    wrapped = {"data": [{"echo": {"errors": {"field": [data]}}}]}
    assert JSONRenderer().render(wrapped).startswith(b'{"data":[{"echo":{"errors":{"field":[[[')


def test_a_number_beyond_a_double_is_malformed_not_infinity(api_client):
    body = '{"email": "a@x.com", "password": 1e309}'
    assert_malformed(api_client.post("/auth/login", body, content_type="application/json"))


def test_a_declared_charset_is_honoured(api_client, make_user):
    make_user(email="zoe@example.com", password="pässword-123")
    body = '{"email": "zoe@example.com", "password": "pässword-123"}'.encode("latin-1")
    response = api_client.post("/auth/login", body, content_type="application/json; charset=latin-1")
    assert response.status_code == 200
