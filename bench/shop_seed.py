"""Fallback catalogue seeder for the shop benchmark (``bench/run.sh``), used only when
``manage.py seed_demo --products N`` is not available.

Bulk inserts (no events: the search index is rebuilt afterwards with ``manage.py reindex``)
of a 3-level category tree, N products linked to leaf categories, 1-3 variants each with
color/size, an ``INITIAL_STOCK`` movement per variant (the ledger invariant: the movements of a
variant add up to its stock) and 1-2 images. Seeded random: the same catalogue every time.

    .venv/bin/python bench/shop_seed.py --products 50000
"""

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")

COLORS = "black white red blue green grey beige navy".split()
SIZES = "XS S M L XL".split()
ADJECTIVES = "wireless portable ergonomic compact premium classic modern vintage smart silent".split()
NOUNS = "monitor keyboard lamp chair desk shirt dress jacket shoes boots watch mug kettle backpack".split()
DEPARTMENTS = {
    "electronics": ["audio", "computers", "phones"],
    "home": ["kitchen", "furniture", "lighting"],
    "fashion": ["men", "women", "kids"],
    "sports": ["outdoor", "fitness", "cycling"],
}
LEAVES = ["basics", "premium", "sale"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=50_000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import transaction

    from apps.catalog.models import Category, Product, ProductCategory, ProductImage, StockMovement, Variant
    from ecommerce.db import alias_for

    alias = alias_for("catalog")
    have = Product.objects.using(alias).count()
    if have >= args.products:
        print(f"catalogue already holds {have} products")
        return 0
    rng = random.Random(42)
    started = time.perf_counter()
    now = datetime.now(UTC)
    with transaction.atomic(using=alias):
        leaves = []
        for top, subs in DEPARTMENTS.items():
            root, _ = Category.objects.using(alias).get_or_create(slug=top, defaults={"name": top.title()})
            for sub in subs:
                mid, _ = Category.objects.using(alias).get_or_create(
                    slug=f"{top}-{sub}", defaults={"name": sub.title(), "parent": root}
                )
                for leaf in LEAVES:
                    cat, _ = Category.objects.using(alias).get_or_create(
                        slug=f"{top}-{sub}-{leaf}", defaults={"name": f"{sub.title()} {leaf}", "parent": mid}
                    )
                    leaves.append(cat)
    batch = 2000
    for start in range(have, args.products, batch):
        products, links, variants, movements, images = [], [], [], [], []
        for n in range(start, min(start + batch, args.products)):
            created = now - timedelta(minutes=n)
            name = f"{rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS)} {n}"
            product = Product(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                sku=f"BENCH-{n:06d}",
                name=name,
                description=f"{name}: a {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} for every day.",
                is_active=True,
                created_at=created,
                updated_at=created,
            )
            products.append(product)
            links.append(ProductCategory(product=product, category=rng.choice(leaves)))
            for k in range(rng.randint(1, 3)):
                stock = rng.randint(20, 500)
                variant = Variant(
                    product=product,
                    attributes={"color": rng.choice(COLORS), "size": SIZES[k % len(SIZES)]},
                    price=Decimal(rng.randint(500, 50000)) / 100,
                    cost_price=None,
                    stock_quantity=stock,
                    created_at=created,
                    updated_at=created,
                )
                variants.append(variant)
                movements.append(StockMovement(variant=variant, change_quantity=stock, type="INITIAL_STOCK"))
            for k in range(rng.randint(1, 2)):
                images.append(
                    ProductImage(
                        product=product,
                        image_url=f"https://cdn.example.com/products/{n}-{k}.jpg",
                        alt_text=name,
                        is_primary=k == 0,
                        order=k,
                    )
                )
        with transaction.atomic(using=alias):
            Product.objects.using(alias).bulk_create(products)
            ProductCategory.objects.using(alias).bulk_create(links)
            Variant.objects.using(alias).bulk_create(variants)
            StockMovement.objects.using(alias).bulk_create(movements)
            ProductImage.objects.using(alias).bulk_create(images)
        print(f"\r{start + len(products)}/{args.products} products", end="", flush=True)
    print(f"\nseeded {args.products - have} products in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
