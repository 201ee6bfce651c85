"""Request id and structured access log; URLs the database could not take."""

import contextvars
import logging
import re
import time
import uuid

from django.http import JsonResponse

request_id_var = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("ecommerce.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    """Takes X-Request-ID from the caller (or makes one), echoes it, logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class RejectNullCharactersMiddleware:
    """A NUL character in the path or the query string is a 400 before any view runs: PostgreSQL
    cannot store or even compare text holding one (a lookup by ``?q=a%00b`` would be a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return JsonResponse({"message": "Null characters are not allowed in the URL."}, status=400)
        return self.get_response(request)
