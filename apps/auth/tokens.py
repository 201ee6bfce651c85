"""Tokens with the contract's claims: id, email, name, profileImage, role, permissions.

Access tokens are HS256 JWTs signed with ``JWT_SECRET`` (simplejwt); only HS256 is accepted
when decoding, so ``alg=none`` or another algorithm is refused. A refresh token only carries
the user id: every refresh reads the user again, so a deactivated user cannot refresh.
"""

from rest_framework_simplejwt import tokens as simplejwt
from rest_framework_simplejwt.exceptions import TokenError

from apps.auth.permissions import permission_names


class BadToken(Exception):
    """The token is malformed, forged, expired, of the wrong type, or names no active user."""


class _ReadableExpiry:
    """PyJWT checks that ``exp`` is a number in the past or future, then simplejwt turns it into a
    datetime unguarded: a correctly signed ``exp`` beyond year 9999 (10**30) raised OverflowError,
    and a numeric string a TypeError, a 500 on every route. Such a token is simply invalid."""

    def check_exp(self, claim="exp", current_time=None):
        try:
            super().check_exp(claim, current_time)
        except (OverflowError, OSError, TypeError, ValueError):
            raise TokenError(f"Token '{claim}' claim is not a valid timestamp")


class AccessToken(_ReadableExpiry, simplejwt.AccessToken):
    """The access token every app accepts (``SIMPLE_JWT["AUTH_TOKEN_CLASSES"]``)."""


class RefreshToken(_ReadableExpiry, simplejwt.RefreshToken):
    access_token_class = AccessToken


def claims_for(user):
    return {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "profileImage": user.profile_image,
        "role": user.role.name if user.role_id else None,
        "permissions": sorted(permission_names(user)),
    }


def access_token_for(user):
    token = AccessToken.for_user(user)
    for key, value in claims_for(user).items():
        token[key] = value
    return str(token)


def refresh_token_for(user):
    return str(RefreshToken.for_user(user))


def tokens_for(user):
    return {"token": access_token_for(user), "refreshToken": refresh_token_for(user)}


def _user_id(token_class, raw):
    if not isinstance(raw, str) or not raw:
        raise BadToken("Invalid or expired token")
    try:
        token = token_class(raw)
    except (TokenError, UnicodeError):  # PyJWT encodes the token to UTF-8 first: "\ud800" fails there
        raise BadToken("Invalid or expired token")
    user_id = token.get("id")
    if not user_id:
        raise BadToken("Invalid or expired token")
    return user_id


def user_from_access_token(raw):
    """The active user an access token names (signature, expiry and type checked)."""
    from apps.auth import selectors

    user = selectors.active_user(_user_id(AccessToken, raw))
    if user is None:
        raise BadToken("User not found or inactive")
    return user


def user_from_refresh_token(raw):
    from apps.auth import selectors

    user = selectors.active_user(_user_id(RefreshToken, raw))
    if user is None:
        raise BadToken("User not found or inactive")
    return user
