"""Tokens with the contract's claims: id, email, name, profileImage, role, permissions.

Access tokens are HS256 JWTs signed with ``JWT_SECRET`` (simplejwt); only HS256 is accepted
when decoding, so ``alg=none`` or another algorithm is refused. A refresh token only carries
the user id: every refresh reads the user again, so a deactivated user cannot refresh.

Both kinds also carry ``passwordStamp``, a keyed digest of the password hash in force when they
were issued: a password change (or reset in the admin) ends every token issued before it, as it
ends Django's sessions. A token without the stamp is refused.
"""

import hmac

from django.conf import settings
from django.utils.crypto import salted_hmac
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


PASSWORD_STAMP_CLAIM = "passwordStamp"


def password_stamp(user):
    """Changes whenever the user's password does; reveals nothing about it (keyed, truncated)."""
    digest = salted_hmac(
        "apps.auth.tokens.password_stamp", user.password, secret=settings.JWT_SECRET, algorithm="sha256"
    )
    return digest.hexdigest()[:32]


def stamp_matches(token, user):
    """Whether ``token`` was issued under the user's current password."""
    stamp = token.get(PASSWORD_STAMP_CLAIM)
    return isinstance(stamp, str) and hmac.compare_digest(stamp.encode(), password_stamp(user).encode())


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
    token[PASSWORD_STAMP_CLAIM] = password_stamp(user)
    return str(token)


def refresh_token_for(user):
    token = RefreshToken.for_user(user)
    token[PASSWORD_STAMP_CLAIM] = password_stamp(user)
    return str(token)


def tokens_for(user):
    return {"token": access_token_for(user), "refreshToken": refresh_token_for(user)}


def _active_user(token_class, raw):
    from apps.auth import selectors

    if not isinstance(raw, str) or not raw:
        raise BadToken("Invalid or expired token")
    try:
        token = token_class(raw)
    except (TokenError, UnicodeError):  # PyJWT encodes the token to UTF-8 first: "\ud800" fails there
        raise BadToken("Invalid or expired token")
    user_id = token.get("id")
    if not user_id:
        raise BadToken("Invalid or expired token")
    user = selectors.active_user(user_id)
    if user is None:
        raise BadToken("User not found or inactive")
    if not stamp_matches(token, user):
        raise BadToken("Invalid or expired token")
    return user


def user_from_access_token(raw):
    """The active user an access token names (signature, expiry, type and password stamp checked)."""
    return _active_user(AccessToken, raw)


def user_from_refresh_token(raw):
    return _active_user(RefreshToken, raw)
