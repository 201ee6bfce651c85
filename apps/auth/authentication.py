"""JWT authentication for every app: a valid signature is not enough, the user must still exist
and be active, so a deactivated user's tokens stop working at once.

A rejected token makes the caller anonymous instead of failing the request: on a public route
(product list, carts, checkout, search) it is no credential at all, since both frontends drop the
token and log the person out on any 401. Routes that need a user answer 401 with the reason
(``apps.auth.permissions.IsAuthenticated``)."""

from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from apps.auth.models import User
from apps.auth.permissions import REJECTED_TOKEN
from apps.auth.selectors import parse_uuid
from apps.auth.tokens import stamp_matches


class JWTAuthentication(SimpleJWTAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except AuthenticationFailed as rejection:
            setattr(request, REJECTED_TOKEN, rejection)
            return None

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
        if not stamp_matches(validated_token, user):  # issued before a password change
            raise AuthenticationFailed("Invalid or expired token", code="token_not_valid")
        return user
