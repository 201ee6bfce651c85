# ruff: noqa: N815 - wire fields are camelCase by contract
"""Wire shapes (camelCase) of /auth: strict input serializers and the contract's outputs."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ecommerce.fields import StrictCharField, StrictEmailField, StrictUUIDField
from ecommerce.validation import ImageURLField


class NormalizedEmailField(StrictEmailField):
    """Emails are compared trimmed and lower-cased (register, login)."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).strip().lower()


def _name(**kwargs):
    return StrictCharField(min_length=1, max_length=150, **kwargs)


def _password():
    return StrictCharField(max_length=128, trim_whitespace=False, write_only=True)


# --- inputs --------------------------------------------------------------------------------------


class RegisterInput(serializers.Serializer):
    """``roleName`` and any other extra field are ignored: a client never chooses its role."""

    name = _name()
    email = NormalizedEmailField(max_length=254)
    password = _password()
    profileImage = ImageURLField(max_length=500, required=False, allow_null=True, allow_blank=True)

    def validate_password(self, value):
        try:
            validate_password(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages))
        return value


class LoginInput(serializers.Serializer):
    email = NormalizedEmailField(max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class TokenInput(serializers.Serializer):
    token = StrictCharField(max_length=4096)


class RefreshInput(serializers.Serializer):
    refreshToken = StrictCharField(max_length=4096)


class UserUpdateInput(serializers.Serializer):
    name = _name(required=False)
    roleId = StrictUUIDField(required=False)
    profileImage = ImageURLField(max_length=500, required=False, allow_null=True, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Provide at least one of name, roleId, profileImage.")
        return attrs


class RoleInput(serializers.Serializer):
    name = StrictCharField(min_length=1, max_length=64)
    description = StrictCharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    permissionIds = serializers.ListField(child=StrictUUIDField(), required=False, max_length=200)


class RoleUpdateInput(RoleInput):
    name = StrictCharField(min_length=1, max_length=64, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Provide at least one of name, description, permissionIds.")
        return attrs


# --- outputs -------------------------------------------------------------------------------------


class PermissionOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()


class UserRoleOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    permissions = PermissionOut(many=True, source="permissions.all")


class UserOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    profileImage = serializers.CharField(source="profile_image", allow_null=True)
    isActive = serializers.BooleanField(source="is_active")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    role = UserRoleOut(allow_null=True)


class MeRoleOut(serializers.Serializer):
    name = serializers.CharField()


class MeOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    profileImage = serializers.CharField(source="profile_image", allow_null=True)
    role = MeRoleOut(allow_null=True)


class RoleUserOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    profileImage = serializers.CharField(source="profile_image", allow_null=True)


class RoleOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    permissions = PermissionOut(many=True, source="permissions.all")
    userCount = serializers.IntegerField(source="user_count")
    users = RoleUserOut(many=True, source="sample_users")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class TokensOut(serializers.Serializer):
    token = serializers.CharField()
    refreshToken = serializers.CharField()


class AccessTokenOut(serializers.Serializer):
    token = serializers.CharField()


class ClaimsOut(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()
    profileImage = serializers.CharField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    permissions = serializers.ListField(child=serializers.CharField())


class ValidateOut(serializers.Serializer):
    valid = serializers.BooleanField()
    user = ClaimsOut(required=False)
    message = serializers.CharField(required=False)
