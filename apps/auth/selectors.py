"""Reads shaped for the API, each a fixed number of queries whatever the number of rows."""

import uuid

from django.db.models import Count, Prefetch

from apps.auth.models import ADMIN_ROLE, Permission, Role, User
from ecommerce.db import alias_for
from ecommerce.errors import NotFound

ROLE_SAMPLE_USERS = 5


def parse_uuid(raw):
    """A UUID from a path segment or a body field; None when it is not one."""
    if isinstance(raw, uuid.UUID):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _users():
    return (
        User.objects.using(alias_for("auth"))
        .select_related("role")
        .prefetch_related(Prefetch("role__permissions", queryset=Permission.objects.order_by("name")))
    )


def user_list():
    """Users, newest first, with their role and its permissions (3 queries with the count)."""
    return _users().order_by("-created_at", "id")


def user_get(user_id):
    pk = parse_uuid(user_id)
    user = _users().filter(pk=pk).first() if pk else None
    if user is None:
        raise NotFound("User not found")
    return user


def user_for_login(email):
    return _users().filter(email=email.strip().lower()).first()


def active_user(user_id):
    """The user a token names, or None when gone or deactivated."""
    pk = parse_uuid(user_id)
    if pk is None:
        return None
    return _users().filter(pk=pk, is_active=True).first()


def _roles():
    sample = User.objects.order_by("created_at", "id")[:ROLE_SAMPLE_USERS]
    return (
        Role.objects.using(alias_for("auth"))
        .annotate(user_count=Count("users", distinct=True))
        .prefetch_related(
            Prefetch("permissions", queryset=Permission.objects.order_by("name")),
            Prefetch("users", queryset=sample, to_attr="sample_users"),
        )
    )


def role_list():
    """Roles by name with permissions, user count and first users (3 queries)."""
    return _roles().order_by("name")


def role_get(role_id):
    pk = parse_uuid(role_id)
    role = _roles().filter(pk=pk).first() if pk else None
    if role is None:
        raise NotFound("Role not found")
    return role


def permission_list():
    return Permission.objects.using(alias_for("auth")).order_by("name")


def active_admin_count(exclude_user_id=None):
    users = User.objects.using(alias_for("auth")).filter(role__name=ADMIN_ROLE, is_active=True)
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.count()
