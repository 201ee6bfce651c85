"""User changes write USER_CREATED / USER_UPDATED / USER_DELETED to the identity context's outbox,
in the transaction of the change: no change without its event, no event without its change."""

import pytest
from django.db import transaction

from apps.auth import services
from apps.auth.models import User
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def payload(user):
    return {
        "id": str(user.id),
        "name": user.name,
        "email": user.email,
        "profileImage": user.profile_image,
        "isActive": user.is_active,
    }


def test_register_writes_user_created(api_client, outbox):
    response = api_client.post(
        "/auth/register",
        {"name": "Ada", "email": "ada@example.com", "password": "correct-horse", "profileImage": "https://x.io/a.png"},
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get(email="ada@example.com")
    rows = outbox()
    assert [(r.event_type, r.aggregate_id) for r in rows] == [("USER_CREATED", str(user.id))]
    assert rows[0].payload == payload(user)
    assert rows[0].aggregate_type == "user"
    envelope = rows[0].envelope()
    assert envelope["type"] == "USER_CREATED"
    assert envelope["payload"]["profileImage"] == "https://x.io/a.png"


def test_refused_registration_writes_nothing(api_client, make_user, outbox):
    make_user(email="ada@example.com")
    before = len(outbox())
    assert (
        api_client.post(
            "/auth/register", {"name": "Ada", "email": "ada@example.com", "password": "correct-horse"}, format="json"
        ).status_code
        == 409
    )
    assert len(outbox()) == before


def test_update_deactivate_activate_write_their_events(client_as, make_user, outbox, role_id):
    client, _ = client_as("ADMIN")
    other = make_user()
    start = outbox()[-1].id

    assert client.put(f"/auth/users/{other.id}", {"name": "Renamed"}, format="json").status_code == 200
    assert client.delete(f"/auth/users/{other.id}").status_code == 204
    assert client.post(f"/auth/users/{other.id}/activate").status_code == 200

    rows = [r for r in outbox() if r.id > start]
    assert [r.event_type for r in rows] == ["USER_UPDATED", "USER_DELETED", "USER_UPDATED"]
    assert {r.aggregate_id for r in rows} == {str(other.id)}
    assert rows[0].payload["name"] == "Renamed"
    assert rows[1].payload == {**payload(User.objects.get(pk=other.pk)), "isActive": False}
    assert rows[2].payload["isActive"] is True


def test_refused_changes_write_no_event(client_as, make_user, outbox, role_id):
    client, admin = client_as("ADMIN")
    start = outbox()[-1].id
    assert client.put(f"/auth/users/{admin.id}", {"roleId": role_id("Customer")}, format="json").status_code == 403
    assert client.delete(f"/auth/users/{admin.id}").status_code == 403
    assert [r for r in outbox() if r.id > start] == []


def test_rollback_of_the_change_rolls_back_its_event(make_user, outbox):
    user = make_user(name="Before")
    start = outbox()[-1].id
    with pytest.raises(RuntimeError):
        with transaction.atomic(using=alias_for("auth")):
            services.update_user(None, user.id, name="After")
            assert [r.event_type for r in outbox() if r.id > start] == ["USER_UPDATED"]
            raise RuntimeError("the caller's transaction fails after the change")
    assert User.objects.get(pk=user.pk).name == "Before"
    assert [r for r in outbox() if r.id > start] == []


def test_a_failing_event_write_rolls_back_the_change(monkeypatch, make_user, outbox):
    from apps.auth import events

    user = make_user(name="Before")

    def broken(*args, **kwargs):
        raise ConnectionError("outbox unavailable")

    monkeypatch.setattr(events, "publish", broken)
    with pytest.raises(ConnectionError):
        services.update_user(None, user.id, name="After")
    assert User.objects.get(pk=user.pk).name == "Before"
    with pytest.raises(ConnectionError):
        services.register_user(name="Ada", email="ada@example.com", password="correct-horse")
    assert not User.objects.filter(email="ada@example.com").exists()


def test_events_are_relayed_after_commit(api_client, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=alias_for("auth"), execute=True) as callbacks:
        response = api_client.post(
            "/auth/register", {"name": "Ada", "email": "ada@example.com", "password": "correct-horse"}, format="json"
        )
    assert response.status_code == 201
    assert callbacks, "the inline relay is scheduled on commit"
    row = outbox(event_type="USER_CREATED")[-1]
    assert row.published_at is not None


def test_createsuperuser_path_emits_user_created(outbox):
    user = User.objects.create_superuser(email="Root@Example.com", password="password123", name="Root")
    assert user.email == "root@example.com"
    assert user.role.name == "ADMIN"
    assert outbox(aggregate_id=str(user.id))[0].event_type == "USER_CREATED"
