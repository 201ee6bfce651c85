"""Bad tokens on protected routes and on POST /auth/validate: expired, forged, alg=none,
malformed, wrong type, deactivated or deleted users."""

import base64
import json
import time
import uuid

import jwt
import pytest
from django.conf import settings

from apps.auth.models import User
from apps.auth.tokens import password_stamp

pytestmark = pytest.mark.django_db

KEY = settings.SIMPLE_JWT["SIGNING_KEY"]


def claims_of(user, **overrides):
    now = int(time.time())
    claims = {
        "token_type": "access",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 600,
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "profileImage": None,
        "role": user.role.name,
        "permissions": sorted(p.name for p in user.role.permissions.all()),
        "passwordStamp": password_stamp(user),
    }
    claims.update(overrides)
    return claims


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(claims):
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def bad_tokens(user):
    return {
        "expired": jwt.encode(claims_of(user, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), KEY),
        "forged": jwt.encode(claims_of(user), "not-the-signing-key-but-long-enough-0123456789"),
        "alg_none": unsigned(claims_of(user)),
        "hs512": jwt.encode(claims_of(user), KEY, algorithm="HS512"),
        "garbage": "not.a.jwt",
        "no_id": jwt.encode({k: v for k, v in claims_of(user).items() if k != "id"}, KEY),
        "unknown_user": jwt.encode(claims_of(user, id=str(uuid.uuid4())), KEY),
        "bad_uuid": jwt.encode(claims_of(user, id="123"), KEY),
        "refresh_type": jwt.encode(claims_of(user, token_type="refresh"), KEY),
        # Correctly signed, with an expiry no calendar holds (year > 9999) or of the wrong type.
        "exp_beyond_calendar": jwt.encode(claims_of(user, exp=10**30), KEY),
        "exp_as_text": jwt.encode(claims_of(user, exp=str(int(time.time()) + 600)), KEY),
        # Issued under another password, or without the stamp at all.
        "stale_password": jwt.encode(claims_of(user, passwordStamp="0" * 32), KEY),
        "no_password_stamp": jwt.encode({k: v for k, v in claims_of(user).items() if k != "passwordStamp"}, KEY),
    }


BAD_TOKEN_KINDS = [
    "expired",
    "forged",
    "alg_none",
    "hs512",
    "garbage",
    "no_id",
    "unknown_user",
    "bad_uuid",
    "refresh_type",
    "exp_beyond_calendar",
    "exp_as_text",
    "stale_password",
    "no_password_stamp",
]


def test_a_well_formed_token_works(api_client, make_user):
    user = make_user(role="ADMIN")
    token = jwt.encode(claims_of(user), KEY)
    assert api_client.get("/auth/users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
def test_bad_tokens_are_401_on_protected_routes(api_client, make_user, kind):
    user = make_user(role="ADMIN")
    token = bad_tokens(user)[kind]
    for path in ("/auth/me", "/auth/users", "/auth/roles"):
        response = api_client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401, (kind, path)
        assert response.json()["message"]


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
def test_validate_refuses_bad_tokens(api_client, make_user, kind):
    user = make_user(role="ADMIN")
    response = api_client.post("/auth/validate", {"token": bad_tokens(user)[kind]}, format="json")
    assert response.status_code == 401
    body = response.json()
    assert body["valid"] is False
    assert body["message"]


@pytest.mark.parametrize("kind", ["expired", "forged", "garbage", "exp_beyond_calendar", "exp_as_text"])
def test_bad_tokens_leave_public_routes_anonymous(api_client, make_user, kind):
    token = bad_tokens(make_user(role="ADMIN"))[kind]
    response = api_client.get("/products", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


@pytest.mark.parametrize("exp", [10**30, "4102444800"], ids=["beyond-calendar", "as-text"])
def test_a_refresh_token_with_an_unreadable_expiry_is_401(api_client, make_user, exp):
    user = make_user()
    token = jwt.encode({"token_type": "refresh", "jti": uuid.uuid4().hex, "exp": exp, "id": str(user.id)}, KEY)
    response = api_client.post("/auth/token/refresh", {"refreshToken": token}, format="json")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or expired token"}


def test_a_token_that_is_not_unicode_text_is_a_bad_token():
    """The JSON parser refuses lone surrogates; a token reaching this function by another way
    still fails as a bad token (PyJWT encodes it to UTF-8 first), not as a UnicodeEncodeError."""
    from apps.auth.tokens import BadToken, user_from_access_token, user_from_refresh_token

    for read in (user_from_access_token, user_from_refresh_token):
        with pytest.raises(BadToken):
            read("\ud800")


def test_header_without_bearer_prefix_is_401(api_client, make_user, token_for):
    user = make_user(role="ADMIN")
    response = api_client.get("/auth/users", HTTP_AUTHORIZATION=token_for(user))
    assert response.status_code == 401


def test_validate_answers_the_current_claims(api_client, make_user, token_for):
    user = make_user(role="Auditor", profile_image="https://x.io/p.png")
    response = api_client.post("/auth/validate", {"token": token_for(user)}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "user": {
            "id": str(user.id),
            "email": user.email,
            "name": user.name,
            "profileImage": "https://x.io/p.png",
            "role": "Auditor",
            "permissions": ["read:order", "read:role", "read:user"],
        },
    }


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "   "}, {"token": 123}, {"token": None}, ["x"]])
def test_validate_without_a_token_is_400(api_client, body):
    response = api_client.post("/auth/validate", body, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "Token is required"


def test_tokens_of_a_deactivated_user_are_refused_everywhere(api_client, make_user, token_for):
    user = make_user(role="ADMIN")
    token = token_for(user)
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    for path in ("/auth/me", "/auth/users", "/auth/roles", "/auth/permissions"):
        assert api_client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401, path
    response = api_client.post("/auth/validate", {"token": token}, format="json")
    assert response.status_code == 401
    assert response.json() == {"valid": False, "message": "User not found or inactive"}


def test_tokens_of_a_deleted_user_are_refused(api_client, make_user, token_for):
    user = make_user()
    token = token_for(user)
    user.delete()
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert api_client.post("/auth/validate", {"token": token}, format="json").status_code == 401


def test_permissions_follow_the_role_not_the_token(api_client, make_user, token_for, role_id):
    """A token minted while the user was ADMIN does not keep ADMIN powers after a demotion."""
    user = make_user(role="ADMIN")
    make_user(role="ADMIN")
    token = token_for(user)
    User.objects.filter(pk=user.pk).update(role_id=role_id("Customer"))
    assert api_client.get("/auth/users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


def test_a_password_change_ends_the_tokens_issued_before_it(api_client, make_user):
    """Resetting a stolen account's password (admin, shell) left the thief's access token valid
    for its hour and its refresh token minting new ones for 7 days."""
    make_user(email="victim@example.com", password="password123")
    stolen = api_client.post(
        "/auth/login", {"email": "victim@example.com", "password": "password123"}, format="json"
    ).json()
    user = User.objects.get(email="victim@example.com")
    user.set_password("a-new-password-456")
    user.save()

    me = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {stolen['token']}")
    assert me.status_code == 401
    assert api_client.post("/auth/validate", {"token": stolen["token"]}, format="json").status_code == 401
    refresh = api_client.post("/auth/token/refresh", {"refreshToken": stolen["refreshToken"]}, format="json")
    assert refresh.status_code == 401
    assert refresh.json() == {"message": "Invalid or expired token"}

    fresh = api_client.post(
        "/auth/login", {"email": "victim@example.com", "password": "a-new-password-456"}, format="json"
    ).json()
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {fresh['token']}").status_code == 200
    renewed = api_client.post("/auth/token/refresh", {"refreshToken": fresh["refreshToken"]}, format="json")
    assert renewed.status_code == 200
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {renewed.json()['token']}").status_code == 200


def test_a_refresh_token_without_the_password_stamp_is_401(api_client, make_user):
    user = make_user()
    exp = int(time.time()) + 600
    token = jwt.encode({"token_type": "refresh", "jti": uuid.uuid4().hex, "exp": exp, "id": str(user.id)}, KEY)
    response = api_client.post("/auth/token/refresh", {"refreshToken": token}, format="json")
    assert response.status_code == 401
