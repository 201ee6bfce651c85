"""JWT authentication for every app: a valid signature is not enough, the user must still exist
and be active, so a deactivated user's tokens stop working at once."""

from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from apps.auth.models import User
from apps.auth.selectors import parse_uuid


class JWTAuthentication(SimpleJWTAuthentication):
    www_authenticate_realm = "api"

    def get_validated_token(self, raw_token):
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken:
            raise AuthenticationFailed("Invalid or expired token", code="token_not_valid")

    def get_user(self, validated_token):
        user_id = parse_uuid(validated_token.get("id"))
        if user_id is None:
            raise AuthenticationFailed("Invalid or expired token", code="token_not_valid")
        user = User.objects.select_related("role").prefetch_related("role__permissions").filter(id=user_id).first()
        if user is None or not user.is_active:
            raise AuthenticationFailed("Invalid or expired token", code="user_inactive")
        return user
