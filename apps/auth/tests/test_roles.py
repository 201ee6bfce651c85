"""/auth/roles CRUD and GET /auth/permissions."""

import uuid

import pytest

from apps.auth.models import Permission, Role
from apps.auth.roles import PERMISSIONS, ROLES

pytestmark = pytest.mark.django_db


def perm_ids(*names):
    return [str(p.pk) for p in Permission.objects.filter(name__in=names)]


def test_permissions_are_a_bare_array_ordered_by_name(client_as):
    client, _ = client_as("Auditor")
    response = client.get("/auth/permissions")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [p["name"] for p in body] == sorted(PERMISSIONS)
    assert set(body[0]) == {"id", "name", "description"}


def test_roles_are_a_bare_array_with_counts_and_first_users(client_as, make_user):
    client, auditor = client_as("Auditor")
    supports = [make_user(role="Support", name=f"S{i}") for i in range(7)]
    response = client.get("/auth/roles")
    assert response.status_code == 200
    body = response.json()
    assert [r["name"] for r in body] == sorted(ROLES)
    by_name = {r["name"]: r for r in body}
    support = by_name["Support"]
    assert set(support) >= {"id", "name", "description", "permissions", "userCount", "users"}
    assert support["userCount"] == 7
    assert [u["name"] for u in support["users"]] == [u.name for u in supports[:5]]
    assert set(support["users"][0]) == {"id", "name", "profileImage"}
    assert [p["name"] for p in support["permissions"]] == ["read:order", "read:user"]
    assert by_name["Auditor"]["userCount"] == 1
    assert by_name["Auditor"]["users"] == [{"id": str(auditor.id), "name": auditor.name, "profileImage": None}]
    assert len(by_name["ADMIN"]["permissions"]) == len(PERMISSIONS)


@pytest.mark.parametrize("extra_roles", [0, 10])
def test_role_list_query_count_does_not_grow(client_as, make_user, auth_queries, extra_roles):
    client, _ = client_as("ADMIN")
    for i in range(extra_roles):
        role = Role.objects.create(name=f"R{i}")
        role.permissions.set(Permission.objects.all()[:3])
    for _ in range(3):
        make_user(role="Support")
    # authentication: 2; list: roles with counts, permissions, first users.
    with auth_queries(5):
        response = client.get("/auth/roles")
    assert len(response.json()) == len(ROLES) + extra_roles


def test_create_get_update_delete_a_role(client_as):
    client, _ = client_as("ADMIN")
    created = client.post(
        "/auth/roles",
        {"name": "Warehouse", "description": "Stock people", "permissionIds": perm_ids("adjust:stock", "read:order")},
        format="json",
    )
    assert created.status_code == 201
    role = created.json()
    assert role["name"] == "Warehouse"
    assert role["userCount"] == 0
    assert role["users"] == []
    assert [p["name"] for p in role["permissions"]] == ["adjust:stock", "read:order"]

    fetched = client.get(f"/auth/roles/{role['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["description"] == "Stock people"

    updated = client.put(
        f"/auth/roles/{role['id']}",
        {"name": "Warehouse team", "permissionIds": perm_ids("adjust:stock")},
        format="json",
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "Warehouse team"
    assert updated.json()["description"] == "Stock people"
    assert [p["name"] for p in updated.json()["permissions"]] == ["adjust:stock"]

    emptied = client.put(f"/auth/roles/{role['id']}", {"permissionIds": []}, format="json")
    assert emptied.json()["permissions"] == []

    deleted = client.delete(f"/auth/roles/{role['id']}")
    assert deleted.status_code == 204
    assert not Role.objects.filter(pk=role["id"]).exists()
    assert client.get(f"/auth/roles/{role['id']}").status_code == 404


def test_create_with_only_a_name(client_as):
    client, _ = client_as("ADMIN")
    response = client.post("/auth/roles", {"name": "Interns"}, format="json")
    assert response.status_code == 201
    assert response.json()["permissions"] == []
    assert response.json()["description"] == ""


@pytest.mark.parametrize("name", ["Support", "support", "ADMIN"])
def test_duplicate_role_name_is_409(client_as, name):
    client, _ = client_as("ADMIN")
    response = client.post("/auth/roles", {"name": name}, format="json")
    assert response.status_code == 409
    assert response.json()["message"]


def test_renaming_to_an_existing_name_is_409(client_as):
    client, _ = client_as("ADMIN")
    role = Role.objects.create(name="Temp")
    response = client.put(f"/auth/roles/{role.pk}", {"name": "Auditor"}, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": 7},
        {"name": "x" * 65},
        {"name": "Ok", "permissionIds": "abc"},
        {"name": "Ok", "permissionIds": ["not-a-uuid"]},
        {"name": "Ok", "permissionIds": [1, 2]},
        {"name": "Ok", "description": ["x"]},
    ],
)
def test_create_bad_input_is_400(client_as, body):
    client, _ = client_as("ADMIN")
    response = client.post("/auth/roles", body, format="json")
    assert response.status_code == 400
    assert response.json()["message"]
    assert not Role.objects.filter(name="Ok").exists()


def test_unknown_permission_id_is_400(client_as):
    client, _ = client_as("ADMIN")
    response = client.post("/auth/roles", {"name": "Ok", "permissionIds": [str(uuid.uuid4())]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["permissionIds"]
    assert not Role.objects.filter(name="Ok").exists()


@pytest.mark.parametrize("bad_id", ["6f1c2d3e-0000-4000-8000-000000000000", "nope"])
def test_unknown_role_is_404(client_as, bad_id):
    client, _ = client_as("ADMIN")
    assert client.get(f"/auth/roles/{bad_id}").status_code == 404
    assert client.put(f"/auth/roles/{bad_id}", {"name": "X"}, format="json").status_code == 404
    response = client.delete(f"/auth/roles/{bad_id}")
    assert response.status_code == 404
    assert response.json() == {"message": "Role not found"}


def test_admin_role_cannot_be_renamed_or_deleted(client_as):
    client, _ = client_as("ADMIN")
    admin_role = Role.objects.get(name="ADMIN")
    renamed = client.put(f"/auth/roles/{admin_role.pk}", {"name": "Boss"}, format="json")
    assert renamed.status_code == 403
    assert renamed.json() == {"message": "Forbidden: The ADMIN role cannot be renamed."}
    deleted = client.delete(f"/auth/roles/{admin_role.pk}")
    assert deleted.status_code == 403
    assert Role.objects.filter(name="ADMIN").exists()
    # Its description can change; its permission set stays complete.
    assert client.put(f"/auth/roles/{admin_role.pk}", {"description": "Owners"}, format="json").status_code == 200
    stripped = client.put(f"/auth/roles/{admin_role.pk}", {"permissionIds": perm_ids("read:user")}, format="json")
    assert stripped.status_code == 403
    assert admin_role.permissions.count() == len(PERMISSIONS)


def test_the_default_role_cannot_be_renamed_or_deleted(client_as):
    client, _ = client_as("ADMIN")
    customer = Role.objects.get(name="Customer")
    assert client.put(f"/auth/roles/{customer.pk}", {"name": "Client"}, format="json").status_code == 403
    assert client.delete(f"/auth/roles/{customer.pk}").status_code == 403


def test_a_role_still_assigned_cannot_be_deleted(client_as, make_user):
    client, _ = client_as("ADMIN")
    role = Role.objects.create(name="Temp")
    make_user(role="Temp")
    make_user(role="Temp", is_active=False)
    response = client.delete(f"/auth/roles/{role.pk}")
    assert response.status_code == 409
    assert response.json() == {"message": "Cannot delete role. It is currently assigned to 2 user(s)."}
    assert Role.objects.filter(pk=role.pk).exists()


def test_a_role_cannot_grant_what_its_editor_lacks(client_as):
    editors = Role.objects.create(name="RoleEditors")
    editors.permissions.set(Permission.objects.filter(name__in=["read:role", "write:role"]))
    client, _ = client_as("RoleEditors")
    response = client.put(
        f"/auth/roles/{editors.pk}",
        {"permissionIds": perm_ids("read:role", "write:role", "delete:user")},
        format="json",
    )
    assert response.status_code == 403
    assert sorted(editors.permissions.values_list("name", flat=True)) == ["read:role", "write:role"]
    created = client.post("/auth/roles", {"name": "Sneaky", "permissionIds": perm_ids("write:user")}, format="json")
    assert created.status_code == 403
    assert not Role.objects.filter(name="Sneaky").exists()
