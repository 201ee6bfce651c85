from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from apps.orders import events  # noqa: F401 - registers the product/auth consumers

        if "all" in settings.ECOMMERCE_SERVICES or "orders" in settings.ECOMMERCE_SERVICES:
            settings.CELERY_BEAT_SCHEDULE.setdefault(
                "orders-reconcile-reservations",
                {"task": "apps.orders.tasks.reconcile_reservations", "schedule": 300.0},
            )
