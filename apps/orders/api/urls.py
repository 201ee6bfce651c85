from django.urls import path

from apps.orders.api import views

# my-orders and guest-lookup come before <order_id> (the original's /:id shadowed my-orders).
urlpatterns = [
    path("", views.OrdersView.as_view(), name="orders"),
    path("guest-lookup", views.GuestLookupView.as_view(), name="orders-guest-lookup"),
    path("my-orders", views.MyOrdersView.as_view(), name="orders-mine"),
    path("<str:order_id>/status", views.OrderStatusView.as_view(), name="orders-status"),
    path("<str:order_id>", views.OrderDetailView.as_view(), name="orders-detail"),
]
