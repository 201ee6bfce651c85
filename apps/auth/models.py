"""Identity: users, roles and the contract's permission strings."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction

from ecommerce.validation import validate_image_url

ADMIN_ROLE = "ADMIN"
DEFAULT_ROLE = "Customer"


class Permission(models.Model):
    """An API permission string such as ``read:user`` (not Django's model permissions)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    permissions = models.ManyToManyField(Permission, related_name="roles", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def db_manager(self, using=None, hints=None):
        """Users live only in the identity context's database, whatever alias a caller names:
        ``createsuperuser`` asks for ``default``, which holds no users when contexts are split."""
        from ecommerce.db import alias_for

        return super().db_manager(alias_for("auth"), hints)

    def _create(self, email, password, role_name, **fields):
        """Every creation path (register, createsuperuser, ensure_admin) emits USER_CREATED in
        the transaction that saves the user."""
        from apps.auth import events
        from ecommerce.db import alias_for

        if not email:
            raise ValueError("An email address is required.")
        using = self._db or alias_for("auth")
        with transaction.atomic(using=using):
            role = fields.pop("role", None) or Role.objects.using(using).filter(name=role_name).first()
            user = self.model(email=self.normalize_email(email), role=role, **fields)
            user.set_password(password)
            user.save(using=using)
            events.user_created(user, using=using)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, DEFAULT_ROLE, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("name", email.split("@")[0])
        return self._create(email, password, ADMIN_ROLE, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    # The API's rule (absolute http(s) URL or a path on this site), so the admin accepts the same.
    profile_image = models.CharField(max_length=500, blank=True, null=True, validators=[validate_image_url])
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="users", null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log in to the Django admin.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        # One spelling per address, whatever the path (API, admin form, manager): the unique
        # constraint and every lookup work on the lowercased address.
        if self.email:
            self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_admin(self):
        return self.role_id is not None and self.role.name == ADMIN_ROLE
