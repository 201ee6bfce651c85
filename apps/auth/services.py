"""Every write of the identity context, each in one transaction on the context's database,
emitting its ``auth_events`` in that same transaction (see ``events.py``).

``actor`` is the user doing the change (None for internal callers such as the admin site or
management commands, which have their own checks).
"""

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from rest_framework import status

from apps.auth import events, selectors
from apps.auth.models import ADMIN_ROLE, DEFAULT_ROLE, Permission, Role, User
from apps.auth.permissions import permission_names
from ecommerce.db import alias_for
from ecommerce.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound

UNSET = object()
PROTECTED_ROLES = (ADMIN_ROLE, DEFAULT_ROLE)

DEACTIVATED = "Forbidden: Your account has been deactivated."
LAST_ADMIN_DEACTIVATE = "Forbidden: The last active administrator cannot be deactivated."
LAST_ADMIN_DEMOTE = "Forbidden: The last active administrator cannot be demoted."
OWN_ROLE = "Forbidden: You cannot change your own role."
OWN_ACCOUNT = "Forbidden: You cannot deactivate your own account."
GRANT_BEYOND_OWN = "Forbidden: You cannot grant permissions you do not hold."
OUTRANKED = "Forbidden: You cannot change a user who holds permissions you do not hold."


class InvalidCredentials(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Invalid credentials"


def _using():
    return alias_for("auth")


# --- accounts -----------------------------------------------------------------------------------


def register_user(*, name, email, password, profile_image=None):
    """A new Customer. The role is never the client's choice."""
    email = email.strip().lower()
    if User.objects.using(_using()).filter(email=email).exists():
        raise Conflict("User already exists")
    try:
        with transaction.atomic(using=_using()):
            role = Role.objects.using(_using()).filter(name=DEFAULT_ROLE).first()
            if role is None:
                raise ApiError("The default role is missing; run the migrations.")
            # create_user saves the user and emits USER_CREATED in this transaction.
            user = User.objects.db_manager(_using()).create_user(
                email=email, password=password, name=name, profile_image=profile_image or None, role=role
            )
    except IntegrityError:
        raise Conflict("User already exists")
    return selectors.user_get(user.pk)


def authenticate(*, email, password):
    """The user these credentials name; 401 ``Invalid credentials``, 403 when deactivated
    (said only to someone who knows the password)."""
    user = selectors.user_for_login(email)
    if user is None:
        # Hash anyway, so that an unknown email and a wrong password take the same time.
        make_password(password)
        raise InvalidCredentials()
    if not user.check_password(password):
        raise InvalidCredentials()
    if not user.is_active:
        raise Forbidden(DEACTIVATED)
    return user


# --- users ------------------------------------------------------------------------------------


def _lock_user(user_id):
    pk = selectors.parse_uuid(user_id)
    user = (
        User.objects.using(_using()).select_for_update(of=("self",)).select_related("role").filter(pk=pk).first()
        if pk
        else None
    )
    if user is None:
        raise NotFound("User not found")
    return user


def _lock_admins():
    """Serialises every change that could remove the last active ADMIN (row lock on the role)."""
    list(Role.objects.using(_using()).select_for_update().filter(name=ADMIN_ROLE))


def _is_last_active_admin(user):
    return user.is_active and user.is_admin and selectors.active_admin_count(exclude_user_id=user.pk) == 0


def _ensure_can_grant(actor, names):
    if actor is None:
        return
    if set(names) - permission_names(actor):
        raise Forbidden(GRANT_BEYOND_OWN)


def _ensure_can_manage(actor, user):
    """A user holding permissions the actor lacks is out of the actor's reach: otherwise a narrow
    role with ``write:user`` / ``delete:user`` could demote, rename, deactivate or reactivate an
    ADMIN. The default role's permissions (every shopper holds them) do not count, so a staff
    role without ``create:order`` still manages customers."""
    if actor is None:
        return
    beyond = permission_names(user) - permission_names(actor)
    if beyond and beyond - _default_role_permission_names():
        raise Forbidden(OUTRANKED)


def _default_role_permission_names():
    return frozenset(Permission.objects.using(_using()).filter(roles__name=DEFAULT_ROLE).values_list("name", flat=True))


def update_user(actor, user_id, *, name=UNSET, role_id=UNSET, profile_image=UNSET):
    with transaction.atomic(using=_using()):
        if role_id is not UNSET:
            _lock_admins()
        user = _lock_user(user_id)
        _ensure_can_manage(actor, user)
        if role_id is not UNSET and role_id != user.role_id:
            role = (
                Role.objects.using(_using()).prefetch_related("permissions").filter(pk=role_id).first()
                if role_id
                else None
            )
            if role is None:
                raise BadRequest("Role not found", errors={"roleId": ["No role with this id."]})
            if actor is not None and actor.pk == user.pk:
                raise Forbidden(OWN_ROLE)
            _ensure_can_grant(actor, [p.name for p in role.permissions.all()])
            if role.name != ADMIN_ROLE and _is_last_active_admin(user):
                raise Forbidden(LAST_ADMIN_DEMOTE)
            user.role = role
        if name is not UNSET:
            user.name = name
        if profile_image is not UNSET:
            user.profile_image = profile_image or None
        user.save(using=_using())
        events.user_updated(user, using=_using())
    return selectors.user_get(user.pk)


def deactivate_user(actor, user_id):
    with transaction.atomic(using=_using()):
        _lock_admins()
        user = _lock_user(user_id)
        if actor is not None and actor.pk == user.pk:
            raise Forbidden(OWN_ACCOUNT)
        if _is_last_active_admin(user):
            raise Forbidden(LAST_ADMIN_DEACTIVATE)
        _ensure_can_manage(actor, user)
        if user.is_active:
            user.is_active = False
            user.save(using=_using(), update_fields=["is_active", "updated_at"])
            events.user_deleted(user, using=_using())
    return user


def activate_user(actor, user_id):
    with transaction.atomic(using=_using()):
        user = _lock_user(user_id)
        _ensure_can_manage(actor, user)
        if not user.is_active:
            user.is_active = True
            user.save(using=_using(), update_fields=["is_active", "updated_at"])
            events.user_updated(user, using=_using())
    return selectors.user_get(user.pk)


# --- roles ------------------------------------------------------------------------------------


def _permissions(ids):
    wanted = list(dict.fromkeys(ids))
    found = list(Permission.objects.using(_using()).filter(pk__in=wanted))
    missing = sorted(str(i) for i in set(wanted) - {p.pk for p in found})
    if missing:
        raise BadRequest(
            f"Unknown permission id(s): {', '.join(missing)}",
            errors={"permissionIds": [f"No permission with id {m}." for m in missing]},
        )
    return found


def _ensure_name_free(name, exclude_pk=None):
    roles = Role.objects.using(_using()).filter(name__iexact=name)
    if exclude_pk is not None:
        roles = roles.exclude(pk=exclude_pk)
    if roles.exists():
        raise Conflict(f"Role '{name}' already exists.")


def create_role(actor, *, name, description="", permission_ids=()):
    try:
        with transaction.atomic(using=_using()):
            _ensure_name_free(name)
            permissions = _permissions(permission_ids)
            _ensure_can_grant(actor, [p.name for p in permissions])
            role = Role.objects.using(_using()).create(name=name, description=description or "")
            role.permissions.set(permissions)
    except IntegrityError:
        raise Conflict(f"Role '{name}' already exists.")
    return selectors.role_get(role.pk)


def update_role(actor, role_id, *, name=UNSET, description=UNSET, permission_ids=UNSET):
    try:
        with transaction.atomic(using=_using()):
            pk = selectors.parse_uuid(role_id)
            role = Role.objects.using(_using()).select_for_update().filter(pk=pk).first() if pk else None
            if role is None:
                raise NotFound("Role not found")
            if name is not UNSET and name != role.name:
                if role.name in PROTECTED_ROLES:
                    raise Forbidden(f"Forbidden: The {role.name} role cannot be renamed.")
                _ensure_name_free(name, exclude_pk=role.pk)
                role.name = name
            if description is not UNSET:
                role.description = description or ""
            role.save(using=_using())
            if permission_ids is not UNSET:
                permissions = _permissions(permission_ids)
                if role.name == ADMIN_ROLE and len(permissions) != Permission.objects.using(_using()).count():
                    raise Forbidden("Forbidden: The ADMIN role always holds every permission.")
                _ensure_can_grant(actor, [p.name for p in permissions])
                role.permissions.set(permissions)
    except IntegrityError:
        raise Conflict("A role with this name already exists.")
    return selectors.role_get(role.pk)


def delete_role(actor, role_id):
    def assigned(count):
        return Conflict(f"Cannot delete role. It is currently assigned to {count} user(s).")

    try:
        with transaction.atomic(using=_using()):
            pk = selectors.parse_uuid(role_id)
            role = Role.objects.using(_using()).select_for_update().filter(pk=pk).first() if pk else None
            if role is None:
                raise NotFound("Role not found")
            if role.name in PROTECTED_ROLES:
                raise Forbidden(f"Forbidden: The {role.name} role cannot be deleted.")
            count = role.users.count()
            if count:
                raise assigned(count)
            role.delete()
    except (ProtectedError, IntegrityError):
        raise assigned(User.objects.using(_using()).filter(role_id=pk).count())
