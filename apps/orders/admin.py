"""Django admin for orders: read-mostly; status changes go through the workflow service."""

from django.contrib import admin, messages

from apps.orders import services
from apps.orders.models import DenormalizedProduct, DenormalizedUser, Order, OrderItem, OrderStatus
from ecommerce.errors import ApiError


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ["product_name", "sku", "variant_attributes", "price_at_time_of_order", "quantity", "variant_id"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _status_action(target):
    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for order in queryset.only("id"):
            try:
                services.change_status(order.id, target)
                done += 1
            except ApiError as exc:
                refused.append(f"{order.id}: {exc.detail}")
        if done:
            modeladmin.message_user(request, f"{done} order(s) marked {target}.", messages.SUCCESS)
        for message in refused[:20]:
            modeladmin.message_user(request, message, messages.WARNING)

    action.__name__ = f"mark_{target.lower()}"
    action.short_description = f"Mark selected orders {target}"
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "status", "payment_method", "total_amount", "guest_email", "user_id"]
    list_filter = ["status", "payment_method", "created_at"]
    search_fields = ["id", "guest_email", "guest_name", "phone"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [OrderItemInline]
    actions = [
        _status_action(s)
        for s in (
            OrderStatus.PAID,
            OrderStatus.SHIPPED,
            OrderStatus.DELIVERED,
            OrderStatus.CANCELLED,
            OrderStatus.FAILED,
        )
    ]
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CopyAdmin(admin.ModelAdmin):
    """The orders' copies of products and users are the consumer's: shown, never written here.
    Deleting one is refused too: a deleted product's copy is the tombstone that keeps a late
    PRODUCT_UPDATED from resurrecting it, and the copy's version orders the updates."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DenormalizedProduct)
class DenormalizedProductAdmin(CopyAdmin):
    list_display = ["id", "name", "sku", "is_active", "is_deleted", "synced_at"]
    search_fields = ["id", "name", "sku"]


@admin.register(DenormalizedUser)
class DenormalizedUserAdmin(CopyAdmin):
    list_display = ["id", "name", "email", "is_active", "synced_at"]
    search_fields = ["id", "name", "email"]
