"""/auth views: parse with a serializer, call a service or selector, shape with a serializer."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.auth import selectors, services
from apps.auth.api import serializers as s
from apps.auth.api.throttles import LoginEmailThrottle, LoginIpThrottle, RegisterEmailThrottle, RegisterIpThrottle
from apps.auth.permissions import Has, IsAuthenticated, PermissionsByMethod
from apps.auth.tokens import BadToken, claims_for, tokens_for, user_from_access_token, user_from_refresh_token
from ecommerce.pagination import envelope, page_params
from ecommerce.validation import validated

PAGE_PARAMS = [
    OpenApiParameter("page", int, description="Page number, from 1"),
    OpenApiParameter("limit", int, description="Page size (capped)"),
]


class PublicView(APIView):
    """Public endpoints ignore any Authorization header: a stale token must not turn a login
    into a 401 (the frontends log the person out on any 401)."""

    authentication_classes = []
    permission_classes = [AllowAny]


class ByMethod(PermissionsByMethod):
    """Methods a view does not list need a token."""

    default_permissions = (IsAuthenticated,)


class RegisterView(PublicView):
    throttle_classes = [RegisterIpThrottle, RegisterEmailThrottle]

    @extend_schema(request=s.RegisterInput, responses={201: s.TokensOut}, summary="Create a Customer account")
    def post(self, request):
        data = validated(s.RegisterInput, request.data)
        user = services.register_user(
            name=data["name"],
            email=data["email"],
            password=data["password"],
            profile_image=data.get("profileImage"),
        )
        return Response(tokens_for(user), status=status.HTTP_201_CREATED)


class LoginView(PublicView):
    throttle_classes = [LoginIpThrottle, LoginEmailThrottle]

    @extend_schema(request=s.LoginInput, responses={200: s.TokensOut}, summary="Log in")
    def post(self, request):
        data = validated(s.LoginInput, request.data)
        user = services.authenticate(email=data["email"], password=data["password"])
        return Response(tokens_for(user))


class RefreshView(PublicView):
    @extend_schema(request=s.RefreshInput, responses={200: s.AccessTokenOut}, summary="New access token")
    def post(self, request):
        data = validated(s.RefreshInput, request.data)
        try:
            user = user_from_refresh_token(data["refreshToken"])
        except BadToken as exc:
            return Response({"message": str(exc)}, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"token": tokens_for(user)["token"]})


class ValidateView(PublicView):
    @extend_schema(request=s.TokenInput, responses={200: s.ValidateOut, 401: s.ValidateOut}, summary="Check a token")
    def post(self, request):
        raw = request.data.get("token") if isinstance(request.data, dict) else None
        if not isinstance(raw, str) or not raw.strip():
            return Response({"valid": False, "message": "Token is required"}, status=status.HTTP_400_BAD_REQUEST)
        try:
            user = user_from_access_token(raw.strip())
        except BadToken as exc:
            return Response({"valid": False, "message": str(exc)}, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"valid": True, "user": claims_for(user)})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.MeOut}, summary="The caller's account")
    def get(self, request):
        return Response(s.MeOut(request.user).data)


class UserListView(APIView):
    permission_classes = [Has("read:user")]

    @extend_schema(parameters=PAGE_PARAMS, responses={200: s.UserOut(many=True)}, summary="Users, newest first")
    def get(self, request):
        page, limit = page_params(request)
        users = selectors.user_list()
        total = users.count()
        rows = list(users[(page - 1) * limit : page * limit])
        return Response(envelope(s.UserOut(rows, many=True).data, total, page, limit))


class UserDetailView(ByMethod, APIView):
    permissions_by_method = {
        "GET": [Has("read:user")],
        "PUT": [Has("write:user")],
        "DELETE": [Has("delete:user")],
    }

    @extend_schema(responses={200: s.UserOut}, summary="One user")
    def get(self, request, user_id):
        return Response(s.UserOut(selectors.user_get(user_id)).data)

    @extend_schema(request=s.UserUpdateInput, responses={200: s.UserOut}, summary="Rename, change role or image")
    def put(self, request, user_id):
        selectors.user_get(user_id)  # 404 before validating the body
        data = validated(s.UserUpdateInput, request.data)
        fields = {}
        if "name" in data:
            fields["name"] = data["name"]
        if "roleId" in data:
            fields["role_id"] = data["roleId"]
        if "profileImage" in data:
            fields["profile_image"] = data["profileImage"]
        user = services.update_user(request.user, user_id, **fields)
        return Response(s.UserOut(user).data)

    @extend_schema(responses={204: None}, summary="Deactivate a user")
    def delete(self, request, user_id):
        services.deactivate_user(request.user, user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserActivateView(APIView):
    permission_classes = [Has("write:user")]

    @extend_schema(request=None, responses={200: s.UserOut}, summary="Reactivate a user")
    def post(self, request, user_id):
        return Response(s.UserOut(services.activate_user(request.user, user_id)).data)


class RoleListView(ByMethod, APIView):
    permissions_by_method = {"GET": [Has("read:role")], "POST": [Has("write:role")]}

    @extend_schema(responses={200: s.RoleOut(many=True)}, summary="Roles by name (bare array)")
    def get(self, request):
        return Response(s.RoleOut(selectors.role_list(), many=True).data)

    @extend_schema(request=s.RoleInput, responses={201: s.RoleOut}, summary="Create a role")
    def post(self, request):
        data = validated(s.RoleInput, request.data)
        role = services.create_role(
            request.user,
            name=data["name"],
            description=data.get("description") or "",
            permission_ids=data.get("permissionIds", []),
        )
        return Response(s.RoleOut(role).data, status=status.HTTP_201_CREATED)


class RoleDetailView(ByMethod, APIView):
    permissions_by_method = {"GET": [Has("read:role")], "PUT": [Has("write:role")], "DELETE": [Has("write:role")]}

    @extend_schema(responses={200: s.RoleOut}, summary="One role")
    def get(self, request, role_id):
        return Response(s.RoleOut(selectors.role_get(role_id)).data)

    @extend_schema(request=s.RoleUpdateInput, responses={200: s.RoleOut}, summary="Change a role")
    def put(self, request, role_id):
        selectors.role_get(role_id)  # 404 before validating the body
        data = validated(s.RoleUpdateInput, request.data)
        fields = {}
        if "name" in data:
            fields["name"] = data["name"]
        if "description" in data:
            fields["description"] = data["description"] or ""
        if "permissionIds" in data:
            fields["permission_ids"] = data["permissionIds"]
        return Response(s.RoleOut(services.update_role(request.user, role_id, **fields)).data)

    @extend_schema(responses={204: None}, summary="Delete an unassigned role")
    def delete(self, request, role_id):
        services.delete_role(request.user, role_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PermissionListView(APIView):
    permission_classes = [Has("read:role")]

    @extend_schema(responses={200: s.PermissionOut(many=True)}, summary="Permissions by name (bare array)")
    def get(self, request):
        return Response(s.PermissionOut(selectors.permission_list(), many=True).data)
