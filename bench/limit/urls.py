"""Mounted by ``ecommerce/urls.py`` under ``/bench/limit/`` only when ``settings.BENCH_LIMIT_VIEW``."""

from django.urls import path

from bench.limit import views

urlpatterns = [path("products", views.products, name="bench-limit-products")]
