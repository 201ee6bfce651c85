"""The /carts routes: thin views over ``apps.cart.services``."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.auth.permissions import REJECTED_TOKEN, IsAuthenticated
from apps.cart import services
from apps.cart.api.serializers import AddItemInput, AssociateInput, CartSchema, UpdateItemInput
from ecommerce.errors import BadRequest, Forbidden
from ecommerce.validation import validated

TAGS = ["carts"]


def _created(cart, created):
    return Response(cart, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CartView(APIView):
    def handle_exception(self, exc):
        # A signed-in shopper whose token expired reaches their own cart as an anonymous caller:
        # answer with the token's rejection (the shop then asks them to log in again and finds
        # the cart) rather than "not found" (the shop would forget the cart).
        rejection = getattr(self.request, REJECTED_TOKEN, None)
        if isinstance(exc, services.CartOfAnotherUser) and rejection is not None:
            exc = rejection
        return super().handle_exception(exc)


class CartCreateView(CartView):
    @extend_schema(
        tags=TAGS,
        request=None,
        parameters=[OpenApiParameter("cartId", str, description="An existing cart to return instead.")],
        responses={200: CartSchema, 201: CartSchema},
        summary="Create a cart (or return the cart named by ?cartId=, or the signed-in user's cart)",
    )
    def post(self, request):
        cart_id = request.query_params.get("cartId") or None
        if cart_id is not None and services.normalize_id(cart_id) is None:
            raise BadRequest("cartId must be a UUID.", errors={"cartId": ["Must be a valid UUID."]})
        return _created(*services.create_cart(request.user, cart_id))


class CartDetailView(CartView):
    @extend_schema(tags=TAGS, responses={200: CartSchema, 201: CartSchema}, summary="A cart (unknown id: new cart)")
    def get(self, request, cart_id):
        return _created(*services.open_cart(cart_id, request.user))

    @extend_schema(tags=TAGS, responses={204: None}, summary="Delete a cart")
    def delete(self, request, cart_id):
        services.delete_cart_for(cart_id, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemsView(CartView):
    @extend_schema(tags=TAGS, request=AddItemInput, responses=CartSchema, summary="Add a variant to a cart")
    def post(self, request, cart_id):
        data = validated(AddItemInput, request.data)
        cart = services.add_item(
            cart_id,
            request.user,
            variant_id=data["variantId"],
            quantity=data["quantity"],
            product_id=data.get("productId"),
        )
        return Response(cart)

    @extend_schema(
        tags=TAGS, request=None, responses=CartSchema, summary="Remove every line of a cart", operation_id="carts_clear"
    )
    def delete(self, request, cart_id):
        return Response(services.clear_items(cart_id, request.user))


class CartItemView(CartView):
    @extend_schema(tags=TAGS, request=UpdateItemInput, responses=CartSchema, summary="Set a line's quantity")
    def put(self, request, cart_id, item_id):
        data = validated(UpdateItemInput, request.data)
        return Response(services.set_item_quantity(cart_id, request.user, item_id, data["quantity"]))

    @extend_schema(
        tags=TAGS, request=None, responses=CartSchema, summary="Remove a line", operation_id="carts_items_remove"
    )
    def delete(self, request, cart_id, item_id):
        return Response(services.remove_item(cart_id, request.user, item_id))


class CartAssociateView(CartView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        request=AssociateInput,
        responses=CartSchema,
        summary="Give a guest cart to the signed-in user (merging it with the user's cart)",
    )
    def post(self, request):
        data = validated(AssociateInput, request.data)
        claimed = data.get("userId")
        if claimed and (services.normalize_id(claimed) or claimed) != str(request.user.id):
            raise Forbidden("You can only associate a cart with your own account.")
        return Response(services.associate(data["cartId"], request.user))
