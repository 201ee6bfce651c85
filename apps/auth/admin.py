"""Django admin for a shop manager: users (search, filters, role select, password change via the
standard admin forms), roles (permissions as a two-pane multi-select, user count) and
permissions. Changes made here follow the API's rules (last active ADMIN, protected roles) and
emit the same ``auth_events`` (the admin wraps each save in a transaction on the auth database).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count

from apps.auth import events, selectors
from apps.auth.models import ADMIN_ROLE, DEFAULT_ROLE, Permission, Role, User
from apps.auth.services import PROTECTED_ROLES
from ecommerce.db import alias_for

LAST_ADMIN = "the last active administrator"


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            self.fields["role"].initial = Role.objects.filter(name=DEFAULT_ROLE).first()

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        before = User.objects.select_related("role").filter(pk=self.instance.pk).first()
        if before is not None and before.is_active and before.is_admin:
            role = cleaned.get("role")
            still_admin = cleaned.get("is_active", True) and role is not None and role.name == ADMIN_ROLE
            if not still_admin and selectors.active_admin_count(exclude_user_id=before.pk) == 0:
                raise forms.ValidationError("The last active administrator cannot be deactivated or demoted.")
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("email", "name", "role", "is_active", "is_staff", "created_at")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    list_select_related = ("role",)
    search_fields = ("email", "name")
    ordering = ("-created_at",)
    readonly_fields = ("created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "profile_image")}),
        ("Access", {"fields": ("role", "is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ()
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        was_active = User.objects.filter(pk=obj.pk).values_list("is_active", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        if not change:
            events.user_created(obj)
        elif was_active and not obj.is_active:
            events.user_deleted(obj)
        else:
            events.user_updated(obj)

    # The API's rule: the shop always keeps an active ADMIN. Deleting one user is refused (403)
    # when it is the last; "delete selected" lists the reason on its confirmation page when the
    # selection holds every active ADMIN, and the deletion re-checks it under the ADMIN role's
    # lock (as the services do) against a concurrent change.
    def _deletes_every_active_admin(self, users):
        doomed = {user.pk for user in users if user.is_active and user.is_admin}
        if not doomed:
            return False
        admins = User.objects.using(alias_for("auth")).filter(role__name=ADMIN_ROLE, is_active=True)
        return not admins.exclude(pk__in=doomed).exists()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self._deletes_every_active_admin([obj]):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if self._deletes_every_active_admin(objs):
            perms_needed.add(LAST_ADMIN)
        return deleted, counts, perms_needed, protected

    def _delete(self, users, delete):
        with transaction.atomic(using=alias_for("auth")):
            list(Role.objects.using(alias_for("auth")).select_for_update().filter(name=ADMIN_ROLE))
            if self._deletes_every_active_admin(users):
                raise PermissionDenied(LAST_ADMIN)
            for user in users:
                events.user_deleted(user)
            delete()

    def delete_model(self, request, obj):
        self._delete([obj], lambda: super(UserAdmin, self).delete_model(request, obj))

    def delete_queryset(self, request, queryset):
        users = list(queryset.select_related("role"))
        self._delete(users, lambda: super(UserAdmin, self).delete_queryset(request, queryset))


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "user_count", "permission_count")
    search_fields = ("name", "description")
    filter_horizontal = ("permissions",)
    ordering = ("name",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _user_count=Count("users", distinct=True),
                _permission_count=Count("permissions", distinct=True),
            )
        )

    @admin.display(description="users", ordering="_user_count")
    def user_count(self, obj):
        return obj._user_count

    @admin.display(description="permissions", ordering="_permission_count")
    def permission_count(self, obj):
        return obj._permission_count

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.name in PROTECTED_ROLES:
            return ("name",)
        return ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.name in PROTECTED_ROLES or obj.users.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        role = form.instance
        if role.name == ADMIN_ROLE:
            # The ADMIN role always holds every permission (the API enforces the same rule).
            role.permissions.set(Permission.objects.all())


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "role_count")
    search_fields = ("name", "description")
    ordering = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_role_count=Count("roles", distinct=True))

    @admin.display(description="roles", ordering="_role_count")
    def role_count(self, obj):
        return obj._role_count
