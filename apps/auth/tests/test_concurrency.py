"""Races on a real PostgreSQL: the last-active-ADMIN rule holds under concurrent requests."""

import threading
import uuid

import pytest
from django.db import connections

from apps.auth import services
from apps.auth.models import User
from ecommerce.errors import Forbidden

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def seeded_roles():
    """A transactional test starts from flushed tables: put the seeded roles back."""
    from apps.auth.models import Permission, Role
    from apps.auth.roles import PERMISSIONS, ROLES

    by_name = {
        n: Permission.objects.get_or_create(name=n, defaults={"description": d})[0] for n, d in PERMISSIONS.items()
    }
    for name, (description, names) in ROLES.items():
        role, _ = Role.objects.get_or_create(name=name, defaults={"description": description})
        role.permissions.set([by_name[n] for n in names])


def run_concurrently(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except Forbidden:
            outcomes[index] = "forbidden"
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcomes[index] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_two_admins_deactivated_at_once_leave_one(make_user, attempt):
    first, second = make_user(role="ADMIN"), make_user(role="ADMIN")
    outcomes = run_concurrently(
        lambda: services.deactivate_user(None, first.id),
        lambda: services.deactivate_user(None, second.id),
    )
    assert sorted(outcomes) == ["forbidden", "ok"], outcomes
    assert User.objects.filter(role__name="ADMIN", is_active=True).count() == 1


def test_demotion_racing_a_deactivation_leaves_one_admin(make_user, role_id):
    first, second = make_user(role="ADMIN"), make_user(role="ADMIN")
    outcomes = run_concurrently(
        lambda: services.update_user(None, first.id, role_id=uuid.UUID(role_id("Customer"))),
        lambda: services.deactivate_user(None, second.id),
    )
    assert sorted(outcomes) == ["forbidden", "ok"], outcomes
    assert User.objects.filter(role__name="ADMIN", is_active=True).count() == 1
