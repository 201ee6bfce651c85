"""Authorisation by the contract's permission strings (``read:user``, ``adjust:stock``...),
attached to the user's role. Reused by every app: ``permission_classes = [Has("read:order")]``."""

from rest_framework.permissions import BasePermission


def permission_names(user):
    """The permission strings the user's role grants (empty for anonymous users)."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", None) is None:
        return frozenset()
    cached = getattr(user, "_api_permissions", None)
    if cached is None:
        cached = frozenset(p.name for p in user.role.permissions.all())
        user._api_permissions = cached
    return cached


# Where the authentication class leaves a token it rejected (see apps.auth.authentication).
REJECTED_TOKEN = "_rejected_token"


class IsAuthenticated(BasePermission):
    """A route that needs a user: 401, with the token's rejection when one was sent."""

    def has_permission(self, request, view):
        if request.user and request.user.is_authenticated:
            return True
        rejection = getattr(request, REJECTED_TOKEN, None)
        if rejection is not None:
            raise rejection
        return False


def Has(*names):  # noqa: N802 - reads as a class in permission_classes
    """A permission class requiring every one of ``names``; anonymous callers get 401."""

    class HasPermissions(IsAuthenticated):
        required = frozenset(names)

        def has_permission(self, request, view):
            return super().has_permission(request, view) and self.required <= permission_names(request.user)

    HasPermissions.__name__ = "Has_" + "_".join(n.replace(":", "_").replace("-", "_") for n in names)
    return HasPermissions


class PermissionsByMethod:
    """View mixin: ``permissions_by_method = {"POST": [Has("create:product")]}``.

    Methods not listed use ``default_permissions`` (none: public, unless the view says otherwise).
    """

    permissions_by_method: dict = {}
    default_permissions: tuple = ()

    def get_permissions(self):
        # Django answers HEAD with the GET handler: it must pass GET's checks too.
        method = "GET" if self.request.method == "HEAD" else self.request.method
        return [cls() for cls in self.permissions_by_method.get(method, self.default_permissions)]
