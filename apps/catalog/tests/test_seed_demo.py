"""seed_demo: a 3-level tree, products with colour/size variants and stock; idempotent; bulk mode."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Max, Sum

from apps.catalog.models import Category, Product, ProductImage, StockMovement, Variant

pytestmark = pytest.mark.django_db


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def depth(category):
    d = 1
    while category.parent_id:
        category = category.parent
        d += 1
    return d


def ledger_matches_stock():
    stock = Variant.objects.aggregate(s=Sum("stock_quantity"))["s"] or 0
    ledger = StockMovement.objects.aggregate(s=Sum("change_quantity"))["s"] or 0
    return stock == ledger


@pytest.mark.parametrize("mode", [[], ["--bulk"]])
def test_seed_demo_is_idempotent(settings, tmp_path, mode):
    settings.MEDIA_ROOT = tmp_path
    seed("--products", "30", *mode)
    assert Product.objects.count() == 30
    assert max(depth(c) for c in Category.objects.all()) == 3
    # Products sit in leaf categories only.
    assert not Product.objects.filter(categories__children__isnull=False).exists()
    variant = Variant.objects.first()
    assert {"color", "size"} <= set(variant.attributes)
    assert ProductImage.objects.filter(image_url__startswith="/images/images/demo-").exists()
    assert (tmp_path / "images" / "demo-1.jpg").exists()
    assert ledger_matches_stock()
    counts = (Category.objects.count(), Variant.objects.count(), StockMovement.objects.count())
    output = seed("--products", "30", *mode)
    assert "0 products added" in output
    assert (Product.objects.count(), Category.objects.count(), Variant.objects.count(),
            StockMovement.objects.count()) == (30, *counts)  # fmt: skip
    seed("--products", "35", *mode)
    assert Product.objects.count() == 35
    assert Product.objects.aggregate(m=Max("sku"))["m"] == "DEMO-000035"
    assert ledger_matches_stock()
