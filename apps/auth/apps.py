from django.apps import AppConfig


class AuthConfig(AppConfig):
    name = "apps.auth"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Identity"

    def ready(self):
        from apps.auth import schema  # noqa: F401 - registers the OpenAPI bearer scheme
