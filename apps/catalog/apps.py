from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Catalogue"

    def ready(self):
        from django.conf import settings

        from ecommerce.health import register_metrics

        register_metrics(catalog_metrics)
        if "all" in settings.ECOMMERCE_SERVICES or "catalog" in settings.ECOMMERCE_SERVICES:
            # Picks up a republish whose run was lost after its rename committed (republish.py).
            settings.CELERY_BEAT_SCHEDULE.setdefault(
                "catalog-republish-categories",
                {"task": "catalog.republish_categories", "schedule": 60.0, "options": {"expires": 55}},
            )


def catalog_metrics():
    """Gauges for ``/metrics``: catalogue size and variants at or below their low-stock threshold."""
    from django.db.models import F

    from apps.catalog.models import CategoryRepublish, Product, Variant

    low = Variant.objects.filter(low_stock_threshold__isnull=False, stock_quantity__lte=F("low_stock_threshold"))
    return [
        ("catalog_products", "Products in the catalogue", Product.objects.count(), {}),
        (
            "catalog_variants_out_of_stock",
            "Variants with no stock",
            Variant.objects.filter(stock_quantity=0).count(),
            {},
        ),
        ("catalog_variants_low_stock", "Variants at or below their low-stock threshold", low.count(), {}),
        (
            "catalog_categories_pending_republish",
            "Renamed or moved categories whose products are not all republished yet",
            CategoryRepublish.objects.count(),
            {},
        ),
    ]
