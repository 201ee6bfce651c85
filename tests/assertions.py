"""Assertions shared by the apps' tests."""


def assert_refused(response, field, message=None):
    """A 400 whose ``errors`` name ``field`` (and contain ``message``, when given)."""
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert field in body["errors"], body
    if message:
        assert message in str(body["errors"][field]), body
