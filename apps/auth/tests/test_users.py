"""GET/PUT/DELETE /auth/users[/:id], POST /auth/users/:id/activate and their rules."""

import uuid

import pytest

from apps.auth.models import User

pytestmark = pytest.mark.django_db


def test_list_is_paginated_newest_first_in_the_contract_shape(client_as, make_user):
    client, admin = client_as("ADMIN")
    made = [make_user(role="Support") for _ in range(3)]
    response = client.get("/auth/users?page=1&limit=2")
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"total": 4, "page": 1, "limit": 2, "totalPages": 2}
    assert [u["id"] for u in body["data"]] == [str(made[2].id), str(made[1].id)]
    first = body["data"][0]
    assert set(first) == {"id", "name", "email", "profileImage", "isActive", "createdAt", "updatedAt", "role"}
    assert first["isActive"] is True
    assert first["role"]["name"] == "Support"
    assert set(first["role"]) == {"id", "name", "description", "permissions"}
    assert [p["name"] for p in first["role"]["permissions"]] == ["read:order", "read:user"]
    assert set(first["role"]["permissions"][0]) == {"id", "name", "description"}
    assert "password" not in str(body)
    last = client.get("/auth/users?page=2&limit=2").json()
    assert [u["id"] for u in last["data"]] == [str(made[0].id), str(admin.id)]
    assert client.get("/auth/users?page=3&limit=2").json()["data"] == []


def test_list_limit_is_capped_and_validated(client_as, settings):
    client, _ = client_as("ADMIN")
    assert client.get("/auth/users?limit=100000").json()["pagination"]["limit"] == settings.MAX_PAGE_SIZE
    for bad in ("page=0", "page=-1", "limit=abc", "page=1.5"):
        response = client.get(f"/auth/users?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["message"]


@pytest.mark.parametrize("extra_users", [2, 12])
def test_list_query_count_does_not_grow_with_users(client_as, make_user, auth_queries, extra_users):
    client, _ = client_as("ADMIN")
    for i in range(extra_users):
        make_user(role=("Support", "Auditor", "Customer")[i % 3])
    # authentication: user + role permissions; list: count, users with roles, permissions.
    with auth_queries(5):
        response = client.get("/auth/users?limit=50")
    assert len(response.json()["data"]) == extra_users + 1


def test_get_one_user(client_as, make_user):
    client, _ = client_as("Support")
    other = make_user(role="Customer", name="Zed")
    response = client.get(f"/auth/users/{other.id}")
    assert response.status_code == 200
    assert response.json()["name"] == "Zed"
    assert response.json()["role"]["name"] == "Customer"


@pytest.mark.parametrize("bad_id", ["6f1c2d3e-0000-4000-8000-000000000000", "not-a-uuid", "123"])
def test_unknown_or_malformed_user_id_is_404(client_as, bad_id):
    client, _ = client_as("ADMIN")
    for method, path in (
        ("get", f"/auth/users/{bad_id}"),
        ("put", f"/auth/users/{bad_id}"),
        ("delete", f"/auth/users/{bad_id}"),
        ("post", f"/auth/users/{bad_id}/activate"),
    ):
        response = getattr(client, method)(path, {"name": "X"}, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json() == {"message": "User not found"}


def test_update_name_role_and_image(client_as, make_user, role_id):
    client, _ = client_as("ADMIN")
    other = make_user(role="Customer")
    response = client.put(
        f"/auth/users/{other.id}",
        {"name": "New Name", "roleId": role_id("Supervisor"), "profileImage": "https://x.io/n.png"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "New Name"
    assert body["role"]["name"] == "Supervisor"
    assert body["profileImage"] == "https://x.io/n.png"
    other.refresh_from_db()
    assert (other.name, other.role.name) == ("New Name", "Supervisor")


def test_update_with_only_a_role(client_as, make_user, role_id):
    client, _ = client_as("ADMIN")
    other = make_user(role="Customer", name="Keep")
    response = client.put(f"/auth/users/{other.id}", {"roleId": role_id("Support")}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Keep"
    assert response.json()["role"]["name"] == "Support"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"unrelated": 1},
        {"name": ""},
        {"name": 42},
        {"name": "x" * 151},
        {"roleId": "not-a-uuid"},
        {"roleId": 5},
        {"roleId": None},
        {"profileImage": "nope"},
        {"profileImage": "//evil.example/a.png"},
        {"profileImage": "https://x.io/" + "a" * 500},
    ],
)
def test_update_bad_input_is_400(client_as, make_user, body):
    client, _ = client_as("ADMIN")
    other = make_user()
    response = client.put(f"/auth/users/{other.id}", body, format="json")
    assert response.status_code == 400
    assert response.json()["message"]


def test_update_accepts_a_site_relative_profile_image(client_as, make_user):
    client, _ = client_as("ADMIN")
    other = make_user()
    image = "/images/images/0b7c3a52-5f0e-4d2a-9a44-2b1f8f6c1d3e.png"  # POST /images/upload's imageUrl
    response = client.put(f"/auth/users/{other.id}", {"profileImage": image}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["profileImage"] == image


def test_update_with_an_unknown_role_is_400(client_as, make_user):
    client, _ = client_as("ADMIN")
    other = make_user()
    response = client.put(f"/auth/users/{other.id}", {"roleId": str(uuid.uuid4())}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["roleId"]
    other.refresh_from_db()
    assert other.role.name == "Customer"


def test_nobody_changes_their_own_role(client_as, make_user, role_id):
    client, admin = client_as("ADMIN")
    make_user(role="ADMIN")
    response = client.put(f"/auth/users/{admin.id}", {"roleId": role_id("Customer")}, format="json")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden: You cannot change your own role."}
    admin.refresh_from_db()
    assert admin.role.name == "ADMIN"
    # Renaming oneself, or sending one's current role, is fine.
    same = client.put(f"/auth/users/{admin.id}", {"name": "Me", "roleId": role_id("ADMIN")}, format="json")
    assert same.status_code == 200


def test_the_last_active_admin_cannot_be_demoted(client_as, make_user, role_id):
    """A non-ADMIN role holding write:user tries to demote the only active ADMIN."""
    from apps.auth.models import Permission, Role

    managers = Role.objects.create(name="UserManagers")
    managers.permissions.set(Permission.objects.all())
    only_admin = make_user(role="ADMIN")
    make_user(role="ADMIN", is_active=False)  # an inactive ADMIN does not count
    client, _ = client_as("UserManagers")
    response = client.put(f"/auth/users/{only_admin.id}", {"roleId": role_id("Customer")}, format="json")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden: The last active administrator cannot be demoted."}
    only_admin.refresh_from_db()
    assert only_admin.role.name == "ADMIN"


def test_an_admin_can_be_demoted_when_another_remains(client_as, make_user, role_id):
    client, _ = client_as("ADMIN")
    other_admin = make_user(role="ADMIN")
    response = client.put(f"/auth/users/{other_admin.id}", {"roleId": role_id("Support")}, format="json")
    assert response.status_code == 200
    assert response.json()["role"]["name"] == "Support"


def test_a_role_beyond_the_actors_own_permissions_cannot_be_granted(client_as, make_user, role_id):
    from apps.auth.models import Permission, Role

    limited = Role.objects.create(name="Helpdesk")
    limited.permissions.set(Permission.objects.filter(name__in=["read:user", "write:user"]))
    client, _ = client_as("Helpdesk")
    other = make_user(role="Customer")
    response = client.put(f"/auth/users/{other.id}", {"roleId": role_id("ADMIN")}, format="json")
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.role.name == "Customer"


def test_deactivate_then_activate(client_as, make_user, api_client):
    client, _ = client_as("ADMIN")
    other = make_user(email="gone@example.com", password="password123")
    response = client.delete(f"/auth/users/{other.id}")
    assert response.status_code == 204
    assert response.content == b""
    other.refresh_from_db()
    assert other.is_active is False
    assert client.get(f"/auth/users/{other.id}").json()["isActive"] is False
    login = api_client.post("/auth/login", {"email": "gone@example.com", "password": "password123"}, format="json")
    assert login.status_code == 403
    # Deactivating again is harmless.
    assert client.delete(f"/auth/users/{other.id}").status_code == 204
    response = client.post(f"/auth/users/{other.id}/activate")
    assert response.status_code == 200
    assert response.json()["isActive"] is True
    login = api_client.post("/auth/login", {"email": "gone@example.com", "password": "password123"}, format="json")
    assert login.status_code == 200


def test_nobody_deactivates_themselves(client_as, make_user):
    client, admin = client_as("ADMIN")
    make_user(role="ADMIN")
    response = client.delete(f"/auth/users/{admin.id}")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden: You cannot deactivate your own account."}
    admin.refresh_from_db()
    assert admin.is_active


def test_the_last_active_admin_cannot_be_deactivated(client_as, make_user):
    from apps.auth.models import Permission, Role

    deleters = Role.objects.create(name="Deleters")
    deleters.permissions.set(Permission.objects.filter(name="delete:user"))
    only_admin = make_user(role="ADMIN")
    client, _ = client_as("Deleters")
    response = client.delete(f"/auth/users/{only_admin.id}")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden: The last active administrator cannot be deactivated."}
    assert User.objects.get(pk=only_admin.pk).is_active
    # With a second active ADMIN, it can be deactivated (by someone holding its permissions).
    make_user(role="ADMIN")
    admin, _ = client_as("ADMIN")
    assert admin.delete(f"/auth/users/{only_admin.id}").status_code == 204


@pytest.fixture
def helpdesk(client_as):
    """A narrow staff role: it may change and deactivate users, and holds nothing else."""
    from apps.auth.models import Permission, Role

    role = Role.objects.create(name="Helpdesk")
    role.permissions.set(Permission.objects.filter(name__in=["write:user", "delete:user"]))
    return client_as("Helpdesk")[0]


def test_a_narrow_role_cannot_demote_rename_or_deactivate_an_admin(helpdesk, make_user, role_id):
    """Holding write:user and delete:user once let a Helpdesk user demote a (not the last) ADMIN
    to Helpdesk, rename them and lock them out: only someone holding a user's permissions may
    change that user."""
    make_user(role="ADMIN")
    other_admin = make_user(role="ADMIN", name="Alice")
    outranked = {"message": "Forbidden: You cannot change a user who holds permissions you do not hold."}
    for response in (
        helpdesk.put(f"/auth/users/{other_admin.id}", {"roleId": role_id("Helpdesk")}, format="json"),
        helpdesk.put(f"/auth/users/{other_admin.id}", {"name": "Mallory"}, format="json"),
        helpdesk.delete(f"/auth/users/{other_admin.id}"),
    ):
        assert response.status_code == 403, response.content
        assert response.json() == outranked
    other_admin.refresh_from_db()
    assert (other_admin.role.name, other_admin.name, other_admin.is_active) == ("ADMIN", "Alice", True)


def test_a_narrow_role_cannot_reactivate_a_user_holding_more(helpdesk, client_as, make_user):
    admin, _ = client_as("ADMIN")
    supervisor = make_user(role="Supervisor")
    assert admin.delete(f"/auth/users/{supervisor.id}").status_code == 204
    response = helpdesk.post(f"/auth/users/{supervisor.id}/activate")
    assert response.status_code == 403
    supervisor.refresh_from_db()
    assert supervisor.is_active is False


def test_a_narrow_role_still_manages_customers(helpdesk, make_user):
    """The default role's permissions (every shopper has them) do not put a customer out of reach."""
    customer = make_user(role="Customer")
    assert helpdesk.put(f"/auth/users/{customer.id}", {"name": "Renamed"}, format="json").status_code == 200
    assert helpdesk.delete(f"/auth/users/{customer.id}").status_code == 204
    assert helpdesk.post(f"/auth/users/{customer.id}/activate").status_code == 200
