"""Login and register throttles, per client IP and per email, counted in the shared cache
(Redis in production), so the limits hold across processes.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``login_ip``, ``login_email``,
``register_ip``, ``register_email``), read at request time. The client IP is ``REMOTE_ADDR``
unless ``NUM_PROXIES`` says how many proxies to trust: a client cannot dodge the limit by
sending its own ``X-Forwarded-For``.
"""

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ecommerce.throttling import ClientAddressMixin

DEFAULT_RATES = {"login_ip": "30/min", "login_email": "10/min", "register_ip": "20/hour", "register_email": "5/hour"}


class _Throttle(ClientAddressMixin, SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, DEFAULT_RATES[self.scope])


class _IpThrottle(_Throttle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _EmailThrottle(_Throttle):
    def get_cache_key(self, request, view):
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None  # nothing to count per email; validation will refuse the request
        # surrogatepass: any str hashes, even one that is not Unicode text ("\ud800@x.com")
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class LoginIpThrottle(_IpThrottle):
    scope = "login_ip"


class LoginEmailThrottle(_EmailThrottle):
    scope = "login_email"


class RegisterIpThrottle(_IpThrottle):
    scope = "register_ip"


class RegisterEmailThrottle(_EmailThrottle):
    scope = "register_email"
