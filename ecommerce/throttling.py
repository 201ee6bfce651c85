"""Who a throttle counts: the client's address, read the same way by every throttle.

DRF's own ``get_ident`` trusts ``X-Forwarded-For`` whenever ``NUM_PROXIES`` is unset, so a client
that forges a new address per request is never throttled. Here ``REMOTE_ADDR`` is the client
unless ``NUM_PROXIES`` says how many proxies in front append to that header; then DRF reads the
entry the nearest trusted proxy appended.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class ClientAddressMixin:
    def get_ident(self, request):
        if api_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR") or "unknown"
        return super().get_ident(request)


class ScopedClientThrottle(ClientAddressMixin, ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` (``throttle_scope`` on the view), per client address."""
