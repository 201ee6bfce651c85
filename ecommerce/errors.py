"""One error shape for the whole API: ``{"message": ...}`` (+ ``errors`` for validation)."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from ecommerce.renderers import JSONRenderer

logger = logging.getLogger(__name__)
_ERROR_RENDERER = JSONRenderer()

PERMISSION_DENIED = "Forbidden: You do not have the required permission to perform this action."


class ApiError(exceptions.APIException):
    """A domain error a service raises; the handler renders it with its status."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."

    def __init__(self, message=None, *, errors=None, extra=None):
        super().__init__(message or self.default_detail)
        self.errors = errors
        self.extra = extra or {}


class BadRequest(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = PERMISSION_DENIED


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service temporarily unavailable."


def _first_message(errors):
    """A readable sentence from DRF's nested error structure: 'email: Enter a valid email.'"""
    if isinstance(errors, dict):
        for field, value in errors.items():
            inner = _first_message(value)
            if field in ("non_field_errors", "__all__"):
                return inner
            return f"{field}: {inner}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def _body(message, errors=None, extra=None):
    body = {"message": str(message)}
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def exception_handler(exc, context):
    response = _error_response(exc)
    request = context.get("request")
    if request is not None:
        # JSON whatever the client prefers: a browser asks for HTML first, and the browsable
        # API is for successful reads, never for errors.
        request.accepted_renderer = _ERROR_RENDERER
        request.accepted_media_type = _ERROR_RENDERER.media_type
    return response


def _error_response(exc):
    headers = {}
    if isinstance(exc, ApiError):
        return Response(_body(exc.detail, exc.errors, exc.extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(_body(f"Invalid input. {_first_message(errors)}", errors), status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response(_body("Request body too large."), status=413)
    if isinstance(exc, SuspiciousOperation):
        # Django's limits on what a request may hold (more than DATA_UPLOAD_MAX_NUMBER_FIELDS form
        # fields, too many files, a malformed multipart body): the client's fault, not ours.
        return Response(_body("Bad request: the request holds more than the server accepts."), status=400)
    if isinstance(exc, exceptions.ParseError):
        return Response(_body(f"Malformed request body: {exc.detail}"), status=400)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        detail = exc.detail
        if isinstance(detail, dict):
            detail = detail.get("detail", "Invalid or expired token")
        return Response(_body(detail), status=401, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        return Response(_body(PERMISSION_DENIED), status=403)
    if isinstance(exc, (Http404, exceptions.NotFound)):
        message = getattr(exc, "detail", None) or "Not found."
        if isinstance(exc, Http404):
            message = "Not found."
        return Response(_body(message), status=404)
    if isinstance(exc, exceptions.Throttled):
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        return Response(_body("Too many requests. Try again later."), status=429, headers=headers)
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, (list, dict)):
            detail = _first_message(detail)
        return Response(_body(detail), status=exc.status_code)
    logger.exception("Unhandled error", exc_info=exc)
    return Response(_body("Internal server error."), status=500)


# Django-level handlers (outside DRF views: unknown URLs, middleware errors).
def _json(status_code, message):
    return JsonResponse({"message": message}, status=status_code)


def bad_request(request, exception=None):
    return _json(400, "Bad request.")


def permission_denied(request, exception=None):
    return _json(403, PERMISSION_DENIED)


def page_not_found(request, exception=None):
    return _json(404, f"Route {request.method} {request.path} not found.")


def server_error(request):
    return _json(500, "Internal server error.")
