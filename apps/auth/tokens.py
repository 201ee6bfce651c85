"""Tokens with the contract's claims: id, email, name, profileImage, role, permissions."""

from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.auth.permissions import permission_names


def _claims(user):
    return {
        "email": user.email,
        "name": user.name,
        "profileImage": user.profile_image,
        "role": user.role.name if user.role_id else None,
        "permissions": sorted(permission_names(user)),
    }


def access_token_for(user):
    token = AccessToken.for_user(user)
    for key, value in _claims(user).items():
        token[key] = value
    return str(token)


def refresh_token_for(user):
    return str(RefreshToken.for_user(user))
