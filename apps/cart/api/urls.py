from django.urls import path

from apps.cart.api import views

urlpatterns = [
    path("", views.CartCreateView.as_view(), name="cart-create"),
    path("associate", views.CartAssociateView.as_view(), name="cart-associate"),
    path("<str:cart_id>", views.CartDetailView.as_view(), name="cart-detail"),
    path("<str:cart_id>/items", views.CartItemsView.as_view(), name="cart-items"),
    path("<str:cart_id>/items/<str:item_id>", views.CartItemView.as_view(), name="cart-item"),
]
