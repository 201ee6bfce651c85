"""Every protected /auth route: 401 without a token, 403 with a Customer token, and allowed
for a role that holds exactly the route's permission."""

import pytest

from apps.auth.models import Permission, Role

pytestmark = pytest.mark.django_db

# (method, path template, required permission or None for "any valid token")
ROUTES = [
    ("get", "/auth/me", None),
    ("get", "/auth/users", "read:user"),
    ("get", "/auth/users/{user}", "read:user"),
    ("put", "/auth/users/{user}", "write:user"),
    ("delete", "/auth/users/{user}", "delete:user"),
    ("post", "/auth/users/{user}/activate", "write:user"),
    ("get", "/auth/roles", "read:role"),
    ("post", "/auth/roles", "write:role"),
    ("get", "/auth/roles/{role}", "read:role"),
    ("put", "/auth/roles/{role}", "write:role"),
    ("delete", "/auth/roles/{role}", "write:role"),
    ("get", "/auth/permissions", "read:role"),
]

BODIES = {"put /auth/users/{user}": {"name": "Renamed"}, "post /auth/roles": {"name": "NewRole"}}


@pytest.fixture
def targets(make_user):
    # A customer: a user holding staff permissions is out of reach of a role without them.
    target_user = make_user(role="Customer")
    target_role = Role.objects.create(name="Disposable")
    return {"user": target_user.id, "role": target_role.id}


def call(client, method, template, targets):
    body = BODIES.get(f"{method} {template}", {"description": "changed"} if "{role}" in template else None)
    return getattr(client, method)(template.format(**targets), body, format="json")


@pytest.mark.parametrize(("method", "template", "permission"), ROUTES)
def test_without_a_token_is_401(api_client, targets, method, template, permission):
    response = call(api_client, method, template, targets)
    assert response.status_code == 401
    assert response.json()["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "template", "permission"), [r for r in ROUTES if r[2]])
def test_with_a_customer_token_is_403(client_as, targets, method, template, permission):
    client, _ = client_as("Customer")
    response = call(client, method, template, targets)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden: You do not have the required permission to perform this action."}


@pytest.mark.parametrize(("method", "template", "permission"), ROUTES)
def test_the_routes_permission_is_enough(client_as, targets, method, template, permission):
    role = Role.objects.create(name=f"Only {permission}")
    if permission:
        role.permissions.set(Permission.objects.filter(name=permission))
    client, _ = client_as(role.name)
    response = call(client, method, template, targets)
    assert response.status_code in (200, 201, 204), (response.status_code, response.content)
