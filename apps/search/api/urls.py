from django.urls import path

from apps.search.api.views import ProductSearchView

urlpatterns = [path("products", ProductSearchView.as_view(), name="search-products")]
