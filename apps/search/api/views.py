from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.search.backends import SearchUnavailable, get_backend
from apps.search.params import parse
from ecommerce.errors import ServiceUnavailable
from ecommerce.pagination import envelope

UNAVAILABLE = "Search is temporarily unavailable. Please try again later."


class ProductSearchView(APIView):
    """Public product search with facets; see apps/search/README.md."""

    # Public: a stale token must not turn a search into a 401 (the shops log out on any 401).
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Fuzzy text (weights: name 4, sku 3, categories 2, rest 1)"),
            OpenApiParameter("category", str, description="Category slug"),
            OpenApiParameter("minPrice", OpenApiTypes.DECIMAL, description="Some variant costs at least this"),
            OpenApiParameter("maxPrice", OpenApiTypes.DECIMAL, description="Some variant costs at most this"),
            OpenApiParameter("inStock", bool),
            OpenApiParameter("attributes[name]", str, description="attributes[color]=red or attributes[color][]=red"),
            OpenApiParameter("page", int),
            OpenApiParameter("limit", int, description="≥ 1, default 24; above 100 capped to 100"),
            OpenApiParameter("sortBy", str, enum=["_score", "price", "createdAt", "name"]),
            OpenApiParameter("sortOrder", str, enum=["asc", "desc"]),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = parse(request.query_params)
        try:
            result = get_backend().search(query)
        except SearchUnavailable:
            raise ServiceUnavailable(UNAVAILABLE)
        body = envelope(result["data"], result["total"], query.page, query.limit)
        body["facets"] = result["facets"]
        return Response(body)
