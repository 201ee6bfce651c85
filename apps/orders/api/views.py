"""Thin views: validate with the serializers, call the services/selectors, shape the response."""

import re
from datetime import UTC, datetime, time, timedelta

from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.auth.permissions import Has, PermissionsByMethod, permission_names
from apps.orders import selectors, services
from apps.orders.api.rendering import render_order
from apps.orders.api.serializers import CheckoutInput, GuestLookupInput, OrderOutput, StatusInput
from apps.orders.models import OrderStatus
from ecommerce.errors import BadRequest, NotFound
from ecommerce.pagination import envelope, page_params
from ecommerce.throttling import ScopedClientThrottle

IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")

ORDER_PAGE = inline_serializer(
    "OrderPage",
    {
        "data": OrderOutput(many=True),
        "pagination": inline_serializer(
            "OrderPagination",
            {
                "total": serializers.IntegerField(),
                "page": serializers.IntegerField(),
                "limit": serializers.IntegerField(),
                "totalPages": serializers.IntegerField(),
            },
        ),
    },
)
PAGE_PARAMS = [OpenApiParameter("page", int), OpenApiParameter("limit", int)]


def _is_staff(user):
    return "read:order" in permission_names(user)


def _render(orders, *, request=None, mask=False):
    """Orders → EnrichedOrder dicts, with one query for users and one for products per call."""
    orders = list(orders)
    users, products = selectors.related_copies(orders)
    full_access = None
    if mask:
        user = request.user
        staff = _is_staff(user)
        user_id = getattr(user, "id", None) if user.is_authenticated else None

        def full_access(order):
            return staff or (user_id is not None and order.user_id == user_id)

    return [render_order(order, users, products, full_access) for order in orders]


def _paginated(request, queryset):
    page, limit = page_params(request)
    total = queryset.count()
    offset = (page - 1) * limit
    return envelope(_render(queryset[offset : offset + limit]), total, page, limit)


def _customer(user):
    if not user.is_authenticated:
        return None
    return services.Customer(
        id=user.id, name=user.name or "", email=user.email or "", profile_image=getattr(user, "profile_image", None)
    )


def _date_param(request, name, end=False):
    """A ``from``/``to`` filter as a UTC instant; ``to`` is exclusive (the day or instant after).
    A date the calendar cannot hold once shifted (``to=9999-12-31``: the day after is in year
    10000; ``+14:00`` on 0001-01-01 is year 0 in UTC) is a bad date, like month 13."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    invalid = BadRequest(
        f"'{name}' must be a date (YYYY-MM-DD) or an ISO-8601 date-time.", errors={name: ["Invalid date."]}
    )
    try:
        day = parse_date(raw) if len(raw) == 10 else None
        moment = None if day is not None else parse_datetime(raw)
    except ValueError:  # well-formed but impossible, e.g. month 13
        raise invalid
    if day is not None:
        moment, step = datetime.combine(day, time.min, tzinfo=UTC), timedelta(days=1)
    elif moment is not None:
        moment, step = moment if moment.tzinfo else moment.replace(tzinfo=UTC), timedelta(microseconds=1)
    else:
        raise invalid
    try:
        moment = moment.astimezone(UTC)  # the database compares in UTC
        return moment + step if end else moment
    except OverflowError:
        raise invalid


class OrdersView(PermissionsByMethod, APIView):
    """``POST /orders`` (checkout, optional JWT) and ``GET /orders`` (staff list)."""

    permissions_by_method = {"GET": [Has("read:order")]}

    @extend_schema(
        request=CheckoutInput,
        responses={201: OrderOutput, 200: OrderOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        summary="Place an order (guest or signed in); 200 replays an Idempotency-Key",
    )
    def post(self, request):
        # A rejected (invalid or expired) token leaves the caller a guest, as on every public
        # route: the order then needs the guest's email (original-api.md: "an invalid token
        # falls back to guest").
        customer = _customer(request.user)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
            raise BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        if not isinstance(request.data, dict):
            raise BadRequest("The request body must be a JSON object.")
        data = CheckoutInput(data=request.data, context={"authenticated": customer is not None})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        checkout = services.CheckoutRequest(
            phone=v["phone"],
            payment_method=v["paymentMethod"],
            shipping_address=v.get("shippingAddress"),
            lines=[services.Line(i["productId"], i["variantId"], i["quantity"]) for i in v.get("items") or []],
            cart_id=v.get("cartId") or None,
            customer=customer,
            guest_email=(v.get("guestEmail") or "").strip() or None,
            guest_name=(v.get("guestName") or "").strip() or None,
        )
        order, created = services.place_order(
            checkout, idempotency_key=key, fingerprint=services.request_fingerprint(request.data) if key else ""
        )
        return Response(_render([order])[0], status=201 if created else 200)

    @extend_schema(
        operation_id="orders_list",
        responses={200: ORDER_PAGE},
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("status", str, enum=OrderStatus.values),
            OpenApiParameter("from", str, description="YYYY-MM-DD or ISO date-time"),
            OpenApiParameter("to", str, description="YYYY-MM-DD (inclusive) or ISO date-time"),
            OpenApiParameter("q", str, description="email contains"),
        ],
        summary="All orders (staff)",
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        if status is not None and status not in OrderStatus.values:
            raise BadRequest(
                f"'status' must be one of {', '.join(OrderStatus.values)}.",
                errors={"status": [f"Must be one of {', '.join(OrderStatus.values)}."]},
            )
        q = (request.query_params.get("q") or "").strip() or None
        if q is not None and len(q) > 254:
            raise BadRequest("'q' is too long.", errors={"q": ["At most 254 characters."]})
        queryset = selectors.orders_for_staff(
            status=status,
            created_from=_date_param(request, "from"),
            created_to=_date_param(request, "to", end=True),
            email=q,
        )
        return Response(_paginated(request, queryset))


class MyOrdersView(APIView):
    permission_classes = [Has("read:my-orders")]

    @extend_schema(responses={200: ORDER_PAGE}, parameters=PAGE_PARAMS, summary="The caller's orders")
    def get(self, request):
        return Response(_paginated(request, selectors.orders_of_user(request.user.id)))


class OrderDetailView(APIView):
    """Anyone holding the (unguessable) id sees the order; personal data only for its owner
    and for staff (``read:order``)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: OrderOutput}, summary="One order (personal data masked unless owner or staff)")
    def get(self, request, order_id):
        order = selectors.get_order(order_id)
        if order is None:
            raise NotFound("Order not found.")
        return Response(_render([order], request=request, mask=True)[0])


class OrderStatusView(APIView):
    permission_classes = [Has("update:order")]

    @extend_schema(
        request=StatusInput,
        responses={
            200: OrderOutput,
            409: OpenApiResponse(description="transition not allowed from the current status"),
        },
        summary="Move an order along the workflow",
        description="The status the order already has answers 200 with the order unchanged (no event, no stock "
        "movement). Cash-on-delivery orders may go PENDING → SHIPPED.",
    )
    def put(self, request, order_id):
        data = StatusInput(data=request.data if isinstance(request.data, dict) else {})
        data.is_valid(raise_exception=True)
        order = selectors.get_order(order_id)
        if order is None:
            raise NotFound("Order not found.")
        services.change_status(order.id, data.validated_data["status"])
        return Response(_render([selectors.get_order(order.id)])[0])


class GuestLookupView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "guest_lookup"

    @extend_schema(request=GuestLookupInput, responses={200: OrderOutput}, summary="A guest's order by id and email")
    def post(self, request):
        data = GuestLookupInput(data=request.data if isinstance(request.data, dict) else {})
        data.is_valid(raise_exception=True)
        order = services.guest_lookup(data.validated_data["orderId"], data.validated_data["email"])
        return Response(_render([selectors.get_order(order.id)])[0])
