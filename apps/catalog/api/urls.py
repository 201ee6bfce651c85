"""Routes under /products/ (the gateway strips the prefix). Specific paths come before
``<product_id>`` so that ``categories``, ``bulk``, ``stock`` are never taken for an id."""

from django.urls import path

from apps.catalog.api import views

urlpatterns = [
    path("", views.ProductListView.as_view(), name="catalog-products"),
    path("bulk", views.ProductBulkView.as_view(), name="catalog-products-bulk"),
    path("id/<str:product_id>", views.ProductByIdView.as_view(), name="catalog-product-by-id"),
    path("sku/<str:sku>", views.ProductBySkuView.as_view(), name="catalog-product-by-sku"),
    path("categories", views.CategoryListView.as_view(), name="catalog-categories"),
    path("categories/bulk", views.CategoryBulkView.as_view(), name="catalog-categories-bulk"),
    path("categories/id/<str:category_id>", views.CategoryByIdView.as_view(), name="catalog-category-by-id"),
    path("categories/slug/<str:slug>", views.CategoryBySlugView.as_view(), name="catalog-category-by-slug"),
    path("categories/<str:category_id>", views.CategoryView.as_view(), name="catalog-category"),
    path("stock/adjust/<str:variant_id>", views.StockAdjustView.as_view(), name="catalog-stock-adjust"),
    path("stock/history/<str:variant_id>", views.StockHistoryView.as_view(), name="catalog-stock-history"),
    path("variants/<str:variant_id>", views.VariantAliasView.as_view(), name="catalog-variant-alias"),
    path("<str:product_id>", views.ProductView.as_view(), name="catalog-product"),
    path("<str:product_id>/categories", views.ProductCategoriesView.as_view(), name="catalog-product-categories"),
    path("<str:product_id>/images", views.ProductImagesView.as_view(), name="catalog-product-images"),
    path("<str:product_id>/variants", views.VariantListView.as_view(), name="catalog-variants"),
    path("<str:product_id>/variants/<str:variant_id>", views.VariantView.as_view(), name="catalog-variant"),
]
