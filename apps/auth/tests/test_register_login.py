"""POST /auth/register, /auth/login, /auth/token/refresh, GET /auth/me."""

import pytest

from apps.auth.models import User

pytestmark = pytest.mark.django_db

REGISTER = "/auth/register"
LOGIN = "/auth/login"


def register(client, **overrides):
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct-horse"}
    body.update(overrides)
    return client.post(REGISTER, body, format="json")


def test_register_creates_a_customer_and_answers_tokens(api_client):
    response = register(api_client, profileImage="https://cdn.example.com/ada.png")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "refreshToken"}
    user = User.objects.get(email="ada@example.com")
    assert user.name == "Ada Lovelace"
    assert user.role.name == "Customer"
    assert user.profile_image == "https://cdn.example.com/ada.png"
    me = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json() == {
        "id": str(user.id),
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "profileImage": "https://cdn.example.com/ada.png",
        "role": {"name": "Customer"},
    }


def test_register_accepts_the_relative_url_of_our_own_upload(api_client):
    # POST /images/upload answers a site-relative imageUrl (the original's format, too).
    image = "/images/images/0b7c3a52-5f0e-4d2a-9a44-2b1f8f6c1d3e.png"
    assert register(api_client, profileImage=image).status_code == 201
    assert User.objects.get(email="ada@example.com").profile_image == image


def test_register_ignores_a_client_chosen_role(api_client):
    response = register(api_client, roleName="ADMIN", role="ADMIN", roleId="whatever")
    assert response.status_code == 201
    assert User.objects.get(email="ada@example.com").role.name == "Customer"


def test_register_stores_the_email_lowercased_and_refuses_a_duplicate_in_any_case(api_client):
    assert register(api_client, email="Ada@Example.COM").status_code == 201
    assert User.objects.filter(email="ada@example.com").exists()
    again = register(api_client, email="ADA@example.com")
    assert again.status_code == 409
    assert again.json() == {"message": "User already exists"}
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1


def test_register_hashes_with_argon2(api_client, real_hashers):
    assert register(api_client).status_code == 201
    user = User.objects.get(email="ada@example.com")
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert "correct-horse" not in user.password
    assert user.check_password("correct-horse")


def test_a_hash_with_older_argon2_parameters_still_logs_in_and_is_upgraded(api_client, real_hashers):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    assert register(api_client).status_code == 201
    user = User.objects.get(email="ada@example.com")
    user.password = Argon2PasswordHasher().encode("correct-horse", Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    assert "m=102400" in user.password
    response = api_client.post("/auth/login", {"email": "ada@example.com", "password": "correct-horse"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password


@pytest.mark.parametrize("missing", ["name", "email", "password"])
def test_register_missing_field_is_400(api_client, missing):
    body = {"name": "Ada", "email": "ada@example.com", "password": "correct-horse"}
    del body[missing]
    response = api_client.post(REGISTER, body, format="json")
    assert response.status_code == 400
    assert missing in response.json()["errors"]
    assert response.json()["message"].startswith("Invalid input.")
    assert not User.objects.filter(email="ada@example.com").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "ada@"),
        ("password", "short"),
        ("name", ""),
        ("name", "x" * 151),
        ("name", 12345),
        ("email", ["ada@example.com"]),
        ("password", 12345678),
        ("password", {"value": "correct-horse"}),
        ("name", None),
        ("profileImage", "not a url"),
        ("profileImage", 7),
        ("profileImage", "//evil.example/a.png"),
        ("profileImage", "images/a.png"),
        ("profileImage", "javascript:alert(1)"),
        ("profileImage", "/" + "a" * 500),
    ],
)
def test_register_refuses_bad_values(api_client, field, value):
    response = register(api_client, **{field: value})
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert User.objects.count() == 0


def test_register_body_must_be_an_object(api_client):
    response = api_client.post(REGISTER, [1, 2], format="json")
    assert response.status_code == 400
    assert "message" in response.json()


def test_login_answers_tokens_with_the_contract_claims(api_client, make_user):
    import jwt
    from django.conf import settings

    user = make_user(
        role="Support", email="sam@example.com", password="s3cret-pass", profile_image="https://x.io/a.png"
    )
    response = api_client.post(LOGIN, {"email": "Sam@Example.com", "password": "s3cret-pass"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "refreshToken"}
    claims = jwt.decode(body["token"], settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
    assert claims["id"] == str(user.id)
    assert claims["email"] == "sam@example.com"
    assert claims["name"] == user.name
    assert claims["profileImage"] == "https://x.io/a.png"
    assert claims["role"] == "Support"
    assert claims["permissions"] == ["read:order", "read:user"]
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    "body",
    [
        {"email": "sam@example.com", "password": "wrong-password"},
        {"email": "nobody@example.com", "password": "s3cret-pass"},
    ],
)
def test_login_with_bad_credentials_is_401(api_client, make_user, body):
    make_user(email="sam@example.com", password="s3cret-pass")
    response = api_client.post(LOGIN, body, format="json")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid credentials"}


def test_login_of_a_deactivated_user_is_403(api_client, make_user):
    make_user(email="sam@example.com", password="s3cret-pass", is_active=False)
    response = api_client.post(LOGIN, {"email": "sam@example.com", "password": "s3cret-pass"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden: Your account has been deactivated."}
    # Without the password, a deactivated account is not revealed.
    wrong = api_client.post(LOGIN, {"email": "sam@example.com", "password": "nope-nope"}, format="json")
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "sam@example.com"},
        {"password": "x"},
        {"email": 1, "password": "x"},
        {"email": "a@b.co", "password": 5},
    ],
)
def test_login_bad_input_is_400(api_client, body):
    response = api_client.post(LOGIN, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_login_ignores_a_stale_bearer_token(api_client, make_user):
    make_user(email="sam@example.com", password="s3cret-pass")
    response = api_client.post(
        LOGIN,
        {"email": "sam@example.com", "password": "s3cret-pass"},
        format="json",
        HTTP_AUTHORIZATION="Bearer expired.or.garbage",
    )
    assert response.status_code == 200


def test_password_is_not_trimmed(api_client, make_user):
    make_user(email="sam@example.com", password=" spaced-pass ")
    ok = api_client.post(LOGIN, {"email": "sam@example.com", "password": " spaced-pass "}, format="json")
    assert ok.status_code == 200
    trimmed = api_client.post(LOGIN, {"email": "sam@example.com", "password": "spaced-pass"}, format="json")
    assert trimmed.status_code == 401


def test_refresh_gives_a_new_access_token(api_client, make_user):
    make_user(email="sam@example.com", password="s3cret-pass")
    tokens = api_client.post(LOGIN, {"email": "sam@example.com", "password": "s3cret-pass"}, format="json").json()
    response = api_client.post("/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert response.status_code == 200
    new = response.json()["token"]
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 200


def test_refresh_refuses_access_tokens_garbage_and_deactivated_users(api_client, make_user):
    user = make_user(email="sam@example.com", password="s3cret-pass")
    tokens = api_client.post(LOGIN, {"email": "sam@example.com", "password": "s3cret-pass"}, format="json").json()
    url = "/auth/token/refresh"
    assert api_client.post(url, {"refreshToken": tokens["token"]}, format="json").status_code == 401
    assert api_client.post(url, {"refreshToken": "garbage"}, format="json").status_code == 401
    assert api_client.post(url, {}, format="json").status_code == 400
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.post(url, {"refreshToken": tokens["refreshToken"]}, format="json")
    assert response.status_code == 401
    assert response.json()["message"]


def test_a_refresh_token_is_not_an_access_token(api_client, make_user):
    make_user(email="sam@example.com", password="s3cret-pass")
    tokens = api_client.post(LOGIN, {"email": "sam@example.com", "password": "s3cret-pass"}, format="json").json()
    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['refreshToken']}")
    assert response.status_code == 401


def test_me_without_token_is_401(api_client):
    response = api_client.get("/auth/me")
    assert response.status_code == 401
    assert response.json()["message"]
