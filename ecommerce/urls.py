"""The gateway: the contract's prefixes, each served by its app when this process serves it.

``ECOMMERCE_SERVICES`` (default ``all``) lists the apps this process serves; a request for a
prefix it does not serve gets the contract's 404.
"""

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ecommerce import health

SERVICE_PREFIXES = {
    "auth": "auth",
    "catalog": "products",
    "images": "images",
    "cart": "carts",
    "search": "search",
    "orders": "orders",
}


def serves(service):
    return "all" in settings.ECOMMERCE_SERVICES or service in settings.ECOMMERCE_SERVICES


urlpatterns = [
    path("", health.gateway_root, name="root"),
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health-ready"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

for service, prefix in SERVICE_PREFIXES.items():
    if serves(service):
        urlpatterns += [
            path(f"{prefix}/health", health.liveness),
            path(f"{prefix}/", include(f"apps.{service}.api.urls")),
            # The contract's collection roots have no trailing slash: "/orders" is the app's "" route.
            path(
                prefix,
                include([p for p in import_module(f"apps.{service}.api.urls").urlpatterns if not str(p.pattern)]),
            ),
        ]

if settings.BENCH_LIMIT_VIEW:  # bench/: the product list's bare-Django reference, never in production
    urlpatterns.append(path("bench/limit/", include("bench.limit.urls")))

handler400 = "ecommerce.errors.bad_request"
handler403 = "ecommerce.errors.permission_denied"
handler404 = "ecommerce.errors.page_not_found"
handler500 = "ecommerce.errors.server_error"
