"""Management commands refuse wrong arguments with a clear message and a failure, before doing
anything (the operator's typo must not release in-flight stock or create an unusable admin)."""

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("command", "arguments", "message"),
    [
        ("seed_demo", ["--products", "-5"], "--products: must be at least 0"),
        ("consume_events", ["--group", "search", "--idle-seconds", "1", "--batch", "-1"], "at least 1"),
        ("consume_events", ["--group", "search", "--idle-seconds", "1", "--batch", "0"], "at least 1"),
        ("consume_events", ["--group", "search", "--idle-seconds", "-1"], "--idle-seconds: must be at least 0"),
        ("relay_outbox", ["--once", "--batch-size", "0"], "--batch-size: must be at least 1"),
        ("relay_outbox", ["--once", "--interval", "-1"], "--interval: must be at least 0.01"),
        ("relay_outbox", ["--once", "--database", "nosuch"], "--database: invalid choice: 'nosuch'"),
        ("prune_outbox", ["--hours", "-1"], "--hours: must be at least 0"),
        ("reconcile_reservations", ["--older-than-minutes", "0"], "--older-than-minutes: must be at least 1"),
        ("reconcile_reservations", ["--window-hours", "-3"], "--window-hours: must be at least 1"),
        ("ensure_admin", ["--email", "notanemail", "--password", "long-enough-1"], "valid email"),
        ("ensure_admin", ["--email", "boss@example.com", "--password", "x"], "too short"),
    ],
)
def test_wrong_arguments_are_refused(command, arguments, message):
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command(command, *arguments, stdout=out, stderr=out)


def test_ensure_admin_says_when_the_existing_user_is_not_an_admin(make_user):
    make_user(role="Customer", email="shopper@example.com")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "ensure_admin", "--email", "Shopper@Example.com", "--password", "long-enough-1", stdout=out, stderr=err
    )
    assert "shopper@example.com exists but is not an active ADMIN" in err.getvalue()
    assert "already exists" not in out.getvalue()
