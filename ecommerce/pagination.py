"""``?page=1&limit=10`` → ``{"data": [...], "pagination": {total, page, limit, totalPages}}``."""

import math

from django.conf import settings
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from ecommerce.errors import BadRequest
from ecommerce.fields import ascii_integer


def parse_positive_int(raw, name, default, maximum=None):
    """A 1-based positive integer query parameter; values above ``maximum`` are capped."""
    if raw in (None, ""):
        return default
    value = ascii_integer(str(raw))
    if value is None or value < 1:
        raise BadRequest(f"'{name}' must be a positive integer.", errors={name: ["Must be a positive integer."]})
    if maximum is not None:
        value = min(value, maximum)
    return value


def page_params(request, default_limit=None, max_limit=None):
    limit = parse_positive_int(
        request.query_params.get("limit"),
        "limit",
        default_limit or settings.REST_FRAMEWORK["PAGE_SIZE"],
        max_limit or settings.MAX_PAGE_SIZE,
    )
    page = parse_positive_int(request.query_params.get("page"), "page", 1, maximum=10**7)
    return page, limit


def envelope(data, total, page, limit):
    return {
        "data": data,
        "pagination": {
            "total": total,
            "page": page,
            "limit": limit,
            "totalPages": math.ceil(total / limit) if limit else 0,
        },
    }


class PagePagination(BasePagination):
    """Page-number pagination in the contract's envelope; a page past the end is empty."""

    def paginate_queryset(self, queryset, request, view=None):
        self.page, self.limit = page_params(request)
        self.total = queryset.count()
        offset = (self.page - 1) * self.limit
        return list(queryset[offset : offset + self.limit])

    def get_paginated_response(self, data):
        return Response(envelope(data, self.total, self.page, self.limit))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "data": schema,
                "pagination": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "totalPages": {"type": "integer"},
                    },
                },
            },
        }
