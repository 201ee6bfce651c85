"""Reads shaped for the API: orders with their lines (prefetched) and the customer and product
copies they show, fetched once per page (one query each), never once per order."""

import uuid

from django.db.models import Q

from apps.orders.models import DenormalizedProduct, DenormalizedUser, Order
from ecommerce.db import alias_for


def _orders():
    return Order.objects.using(alias_for("orders")).prefetch_related("items")


def get_order(order_id):
    try:
        order_uuid = uuid.UUID(str(order_id))
    except ValueError:
        return None
    return _orders().filter(id=order_uuid).first()


def orders_of_user(user_id):
    return _orders().filter(user_id=user_id).order_by("-created_at", "-id")


def orders_for_staff(*, status=None, created_from=None, created_to=None, email=None):
    qs = _orders().order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if created_from:
        qs = qs.filter(created_at__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__lt=created_to)
    if email:
        users = DenormalizedUser.objects.using(alias_for("orders")).filter(email__icontains=email).values("id")
        qs = qs.filter(Q(guest_email__icontains=email) | Q(user_id__in=users))
    return qs


def related_copies(orders):
    """``(users_by_id, products_by_id)`` for a page of orders whose items are prefetched.

    Products are read only for lines that lack something the copy could fill (lines keep the
    name, sku and picture sold), so most pages, and every fresh checkout, skip that query."""
    using = alias_for("orders")
    user_ids = {o.user_id for o in orders if o.user_id}
    product_ids = {
        i.product_id for o in orders for i in o.items.all() if not (i.product_name and i.sku and i.image_url)
    }
    users = {u.id: u for u in DenormalizedUser.objects.using(using).filter(id__in=user_ids)} if user_ids else {}
    products = (
        {p.id: p for p in DenormalizedProduct.objects.using(using).filter(id__in=product_ids)} if product_ids else {}
    )
    return users, products
