from django.apps import AppConfig


class AuthConfig(AppConfig):
    name = "apps.auth"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Identity"

    def ready(self):
        from apps.auth import checks, schema  # noqa: F401 - register the deploy check and the OpenAPI bearer scheme
