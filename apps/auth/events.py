"""What the identity context publishes: ``USER_CREATED``, ``USER_UPDATED``, ``USER_DELETED`` on
``auth_events``. Every user change goes through these functions, called inside the
``transaction.atomic(using=alias_for("auth"))`` of the change, so the outbox row and the change
commit (or roll back) together.

Payload: the contract's ``{id, name, email, profileImage}`` plus ``isActive`` (a superset: the
orders context keeps its copy's active flag from it). ``USER_DELETED`` is sent on deactivation,
as in the original, with the same payload.
"""

from apps.events.outbox import publish
from ecommerce.db import alias_for

TOPIC = "auth_events"
USER_CREATED = "USER_CREATED"
USER_UPDATED = "USER_UPDATED"
USER_DELETED = "USER_DELETED"


def user_payload(user):
    return {
        "id": str(user.id),
        "name": user.name,
        "email": user.email,
        "profileImage": user.profile_image,
        "isActive": user.is_active,
    }


def _emit(event_type, user, using=None):
    return publish(
        TOPIC,
        event_type,
        str(user.id),
        user_payload(user),
        using=using or alias_for("auth"),
        aggregate_type="user",
    )


def user_created(user, using=None):
    return _emit(USER_CREATED, user, using)


def user_updated(user, using=None):
    return _emit(USER_UPDATED, user, using)


def user_deleted(user, using=None):
    return _emit(USER_DELETED, user, using)
