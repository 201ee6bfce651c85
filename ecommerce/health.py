"""The gateway's root, liveness, readiness and metrics.

Apps add their own readiness checks and metrics in ``AppConfig.ready()`` with
``register_check`` and ``register_metrics`` (e.g. the broker and the outbox backlog).
"""

import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse, JsonResponse

from ecommerce.db import routed_aliases

logger = logging.getLogger(__name__)

_checks = {}
_optional = set()
_metrics = []


class CheckFailed(Exception):
    """Raised by a check that looks at several parts (database aliases, caches): ``details``
    say which part failed and why, beside the parts that answered, so that the report names
    the database that is down instead of one driver error without its alias."""

    def __init__(self, message, details):
        super().__init__(message)
        self.details = details


def register_check(name, check, *, critical=True):
    """``check()`` returns a dict of details or raises.

    A failing critical check makes the process not ready (503). A failing optional one is
    reported as DOWN while the process stays ready with status DEGRADED: a dependency that only
    some routes need (search in the monolith) must not take the whole shop out of the load balancer.
    """
    _checks[name] = check
    if critical:
        _optional.discard(name)
    else:
        _optional.add(name)


def register_metrics(provider):
    """``provider()`` returns ``[(name, help, value, labels_dict), ...]``."""
    _metrics.append(provider)


def _each_part(parts, probe, what):
    """Runs ``probe(part)`` for every part, even after one fails; raises ``CheckFailed`` naming
    the failed ones."""
    details, down = {}, []
    for part in parts:
        try:
            probe(part)
            details[part] = "UP"
        except Exception as exc:  # noqa: BLE001 - reported with its reason, the others still checked
            details[part] = f"DOWN: {type(exc).__name__}: {exc}"
            down.append(part)
    if down:
        raise CheckFailed(f"{what} down: {', '.join(down)}", details)
    return details


def _ping_database(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")


def _ping_cache(alias):
    cache = caches[alias]
    cache.set("health:ping", "1", 5)
    if cache.get("health:ping") != "1":
        raise RuntimeError(f"cache '{alias}' did not return what was written")


def _database_check():
    # Only the databases the contexts are routed to: in the split shape ``default`` holds no
    # context's data, and its being down must not take the process out of the load balancer.
    return _each_part(routed_aliases(), _ping_database, "database")


def _cache_check():
    return _each_part(settings.CACHES, _ping_cache, "cache")


register_check("database", _database_check)
register_check("cache", _cache_check)


def gateway_root(request):
    """``GET /``: the original gateway's own greeting (original-api.md section 0); no dependency."""
    return JsonResponse({"message": "API Gateway online"})


def liveness(request):
    return JsonResponse({"status": "UP", "service": settings.EVENTS_SOURCE_SERVICE})


def readiness(request):
    report, ready, degraded = {}, True, False
    for name, check in _checks.items():
        started = time.perf_counter()
        try:
            details = check() or {}
            report[name] = {"status": "UP", **details}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
            details = exc.details if isinstance(exc, CheckFailed) else {}
            report[name] = {"status": "DOWN", **details, "error": f"{type(exc).__name__}: {exc}"}
            if name in _optional:
                report[name]["critical"] = False
                degraded = True
            else:
                ready = False
        degraded = degraded or report[name]["status"] == "DEGRADED"
        report[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    status = "DOWN" if not ready else "DEGRADED" if degraded else "UP"
    return JsonResponse({"status": status, "checks": report}, status=200 if ready else 503)


def _provider_rows(provider):
    """A provider that fails (its database is down) is left out and reported by
    ``metrics_provider_up``: the other series are scraped all the same."""
    name = f"{provider.__module__}.{provider.__qualname__}"
    try:
        rows = list(provider())
    except Exception:  # noqa: BLE001 - logged; the scrape goes on without this provider
        logger.exception("metrics provider failed", extra={"provider": name})
        rows, up = [], 0
    else:
        up = 1
    return [*rows, ("metrics_provider_up", "1 if the metrics provider answered", up, {"provider": name})]


def metrics(request):
    # Grouped by name: one HELP and one TYPE line per metric, then all its samples (the text
    # format's rule; providers give one row per label set).
    families = {}
    for provider in _metrics:
        for name, help_text, value, labels in _provider_rows(provider):
            families.setdefault(name, (help_text, []))[1].append((labels, value))
    lines = []
    for name, (help_text, samples) in families.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{v}"' for k, v in (labels or {}).items())
            lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
