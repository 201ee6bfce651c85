from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "apps.search"
    label = "search"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Search"

    def ready(self):
        from django.conf import settings

        from apps.search import events  # noqa: F401 - registers the product_events consumer
        from ecommerce.health import register_check

        if settings.SEARCH_BACKEND == "elasticsearch":
            from apps.search.backends import get_backend

            # Only the search routes need Elasticsearch: it makes a process unready only when that
            # process serves search alone (split deployment); elsewhere readiness reports DEGRADED.
            register_check("search", lambda: get_backend().check(), critical=settings.ECOMMERCE_SERVICES == ["search"])
