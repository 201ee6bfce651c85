from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "apps.images"
    label = "images"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from ecommerce.health import register_check

        from .health import storage_check

        services = getattr(settings, "ECOMMERCE_SERVICES", ["all"])
        if "all" in services or "images" in services:
            register_check("storage", storage_check)
