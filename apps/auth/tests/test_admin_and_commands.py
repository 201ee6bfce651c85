"""Django admin for users, roles and permissions; createsuperuser and ensure_admin."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from apps.auth.models import Permission, Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client():
    root = User.objects.create_superuser(email="root@example.com", password="password123", name="Root")
    client = Client()
    client.force_login(root)
    return client, root


def test_user_changelist_search_and_filters(manager_client, make_user, role_id):
    client, _ = manager_client
    make_user(role="Support", email="findme@example.com", name="Findable")
    make_user(role="Customer", email="other@example.com", is_active=False)
    response = client.get("/admin/accounts/user/", {"q": "findme"})
    assert response.status_code == 200
    assert b"findme@example.com" in response.content
    assert b"other@example.com" not in response.content
    filtered = client.get("/admin/accounts/user/", {"role__id__exact": role_id("Customer"), "is_active__exact": "0"})
    assert filtered.status_code == 200
    assert b"other@example.com" in filtered.content
    assert b"findme@example.com" not in filtered.content


def test_add_user_through_the_admin_with_a_role_and_a_password(manager_client, api_client, role_id, outbox):
    client, _ = manager_client
    assert client.get("/admin/accounts/user/add/").status_code == 200
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Staff@Example.com",
            "name": "New Staff",
            "role": role_id("Supervisor"),
            "usable_password": "true",
            "password1": "a-strong-pass-123",
            "password2": "a-strong-pass-123",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(email="new.staff@example.com")
    assert user.role.name == "Supervisor"
    assert outbox(aggregate_id=str(user.id))[0].event_type == "USER_CREATED"
    login = api_client.post(
        "/auth/login", {"email": "new.staff@example.com", "password": "a-strong-pass-123"}, format="json"
    )
    assert login.status_code == 200


def test_change_user_and_password_through_the_admin(manager_client, make_user, api_client, role_id, outbox):
    client, _ = manager_client
    user = make_user(role="Customer", email="cust@example.com")
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    assert b'name="role"' in page.content
    response = client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {"email": "cust@example.com", "name": "Renamed", "role": role_id("Support"), "is_active": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert (user.name, user.role.name) == ("Renamed", "Support")
    assert outbox(aggregate_id=str(user.id))[-1].event_type == "USER_UPDATED"

    password_page = client.get(f"/admin/accounts/user/{user.pk}/password/")
    assert password_page.status_code == 200
    changed = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "true", "password1": "brand-new-pass-1", "password2": "brand-new-pass-1"},
    )
    assert changed.status_code == 302, changed.content[:2000]
    login = api_client.post("/auth/login", {"email": "cust@example.com", "password": "brand-new-pass-1"}, format="json")
    assert login.status_code == 200


def test_the_admin_applies_the_apis_profile_image_rule(manager_client, make_user, role_id):
    client, _ = manager_client
    user = make_user(role="Customer", email="cust@example.com")
    url = f"/admin/accounts/user/{user.pk}/change/"
    form = {"email": "cust@example.com", "name": "Cust", "role": role_id("Customer"), "is_active": "on"}
    uploaded = "/images/images/0b7c3a52-5f0e-4d2a-9a44-2b1f8f6c1d3e.png"  # POST /images/upload's imageUrl
    assert client.post(url, {**form, "profile_image": uploaded}).status_code == 302
    user.refresh_from_db()
    assert user.profile_image == uploaded
    refused = client.post(url, {**form, "profile_image": "//evil.example/a.png"})
    assert refused.status_code == 200 and b"errorlist" in refused.content


def test_admin_refuses_to_demote_the_last_active_admin(manager_client, role_id):
    client, root = manager_client
    response = client.post(
        f"/admin/accounts/user/{root.pk}/change/",
        {"email": root.email, "name": root.name, "role": role_id("Customer"), "is_active": "on", "is_staff": "on"},
    )
    assert response.status_code == 200  # the form is shown again with the error
    assert b"last active administrator" in response.content
    root.refresh_from_db()
    assert root.role.name == "ADMIN"


def test_admin_refuses_to_delete_the_last_active_admin(manager_client, make_user, outbox):
    client, root = manager_client
    other = make_user(role="ADMIN", email="second@example.com")
    second_id = str(other.pk)
    # One at a time, the first goes (another admin is left) and the last is refused.
    assert client.post(f"/admin/accounts/user/{other.pk}/delete/", {"post": "yes"}).status_code == 302
    response = client.post(f"/admin/accounts/user/{root.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=root.pk).exists()
    # Both at once through "delete selected": refused too, even though each is not the last alone.
    other = make_user(role="ADMIN", email="third@example.com")
    selected = {"action": "delete_selected", "_selected_action": [str(root.pk), str(other.pk)]}
    confirmation = client.post("/admin/accounts/user/", selected)
    assert confirmation.status_code == 200 and b"the last active administrator" in confirmation.content
    assert client.post("/admin/accounts/user/", {**selected, "post": "yes"}).status_code == 403
    assert User.objects.filter(pk__in=[root.pk, other.pk]).count() == 2
    # Only the deletion that happened published USER_DELETED.
    assert [row.aggregate_id for row in outbox(event_type="USER_DELETED")] == [second_id]


def test_role_admin_shows_counts_and_a_permission_multiselect(manager_client, make_user):
    client, _ = manager_client
    make_user(role="Support")
    listing = client.get("/admin/accounts/role/")
    assert listing.status_code == 200
    assert b"Support" in listing.content
    support = Role.objects.get(name="Support")
    page = client.get(f"/admin/accounts/role/{support.pk}/change/")
    assert page.status_code == 200
    assert b"selectfilter" in page.content.lower() or b"SelectFilter" in page.content
    wanted = Permission.objects.filter(name__in=["read:user", "adjust:stock"])
    response = client.post(
        f"/admin/accounts/role/{support.pk}/change/",
        {"name": "Support", "description": "Desk", "permissions": [str(p.pk) for p in wanted]},
    )
    assert response.status_code == 302, response.content[:2000]
    assert sorted(support.permissions.values_list("name", flat=True)) == ["adjust:stock", "read:user"]


def test_admin_role_keeps_every_permission_in_the_admin(manager_client):
    client, _ = manager_client
    admin_role = Role.objects.get(name="ADMIN")
    response = client.post(
        f"/admin/accounts/role/{admin_role.pk}/change/",
        {"description": "Owners", "permissions": [str(Permission.objects.get(name="read:user").pk)]},
    )
    assert response.status_code == 302, response.content[:2000]
    admin_role.refresh_from_db()
    assert admin_role.name == "ADMIN"
    assert admin_role.permissions.count() == Permission.objects.count()


def test_permission_admin_lists_permissions(manager_client):
    client, _ = manager_client
    response = client.get("/admin/accounts/permission/", {"q": "stock"})
    assert response.status_code == 200
    assert b"adjust:stock" in response.content


def test_createsuperuser_gives_an_admin_who_can_use_the_api(api_client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "super-secret-1")
    call_command("createsuperuser", "--noinput", "--email", "Boss@Example.com", "--name", "Boss")
    user = User.objects.get(email="boss@example.com")
    assert user.role.name == "ADMIN" and user.is_staff and user.is_superuser
    token = api_client.post("/auth/login", {"email": "boss@example.com", "password": "super-secret-1"}, format="json")
    assert token.status_code == 200
    users = api_client.get("/auth/users", HTTP_AUTHORIZATION=f"Bearer {token.json()['token']}")
    assert users.status_code == 200


def test_ensure_admin_is_idempotent(api_client):
    out = io.StringIO()
    call_command("ensure_admin", "--email", "demo@example.com", "--password", "demo-pass-123", stdout=out)
    assert "demo@example.com" in out.getvalue() and "demo-pass-123" not in out.getvalue()
    call_command("ensure_admin", "--email", "demo@example.com", "--password", "demo-pass-123")
    assert User.objects.filter(email="demo@example.com").count() == 1
    assert User.objects.get(email="demo@example.com").role.name == "ADMIN"
    login = api_client.post("/auth/login", {"email": "demo@example.com", "password": "demo-pass-123"}, format="json")
    assert login.status_code == 200


def test_the_deploy_check_refuses_the_development_secret_key(settings):
    from django.core.management.base import SystemCheckError

    settings.SECRET_KEY = settings.JWT_SECRET = settings.DEV_SECRET_KEY
    with pytest.raises(SystemCheckError, match="accounts.E001"):
        call_command("check", "--deploy", "--fail-level", "ERROR", stdout=io.StringIO(), stderr=io.StringIO())
    settings.SECRET_KEY = settings.JWT_SECRET = "a-real-deployment-secret-" + "x" * 40
    call_command("check", "--deploy", "--fail-level", "ERROR", stdout=io.StringIO(), stderr=io.StringIO())
