"""``manage.py seed_demo [--products N] [--bulk] [--no-progress]``: a demo catalogue, idempotent.

The default (240 products) goes through the services: every product is validated, its initial
stock written to the ledger, and a PRODUCT_CREATED event published (the search index and the
orders' product copies follow). Large catalogues (``--products 50000``, or ``--bulk``) use
``services.bulk_load_products`` (bulk inserts, no events): run ``manage.py reindex`` afterwards.
Running it again adds only what is missing (products are recognised by their ``DEMO-`` SKU).
"""

import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from tqdm import tqdm

from apps.catalog import demo, services
from apps.catalog.models import Category, Product, ProductCategory, ProductImage, StockMovement, Variant
from ecommerce.commands import number

BULK_THRESHOLD = 2000
SERVICE_CHUNK = 40
BULK_CHUNK = 2500


class Command(BaseCommand):
    help = "Create (idempotently) a demo catalogue: a 3-level category tree, products, variants, stock, images."

    def add_arguments(self, parser):
        parser.add_argument(
            "--products", type=number(minimum=0), default=240, help="number of demo products (default 240)"
        )
        parser.add_argument("--bulk", action="store_true", help="bulk inserts without events (then: reindex)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, products, bulk, no_progress, **options):
        categories = self._categories()
        self._images()
        leaves = demo.leaves()
        existing = set(Product.objects.filter(sku__startswith="DEMO-").values_list("sku", flat=True))
        wanted = [n for n in range(1, products + 1) if f"DEMO-{n:06d}" not in existing]
        bulk = bulk or len(wanted) > BULK_THRESHOLD
        chunk = BULK_CHUNK if bulk else SERVICE_CHUNK
        bar = tqdm(total=len(wanted), unit="product", desc="seed_demo", disable=no_progress, file=self.stderr._out)
        for start in range(0, len(wanted), chunk):
            items = []
            for n in wanted[start : start + chunk]:
                item = demo.product_item(n, leaves[n % len(leaves)])
                item["category_ids"] = [categories[slug] for slug in item.pop("category_slugs")]
                items.append(item)
            if bulk:
                services.bulk_load_products(items)
            else:
                services.create_products(items)
            bar.update(len(items))
        bar.close()
        if bulk and wanted:
            self._analyze()
        self.stdout.write(
            f"Demo catalogue: {len(categories)} categories, {len(wanted)} products added "
            f"({products - len(wanted)} already there)."
        )
        if bulk and wanted:
            self.stdout.write("Bulk mode published no events: run `manage.py reindex` to fill the search index.")

    def _analyze(self):
        """Fresh planner statistics after a bulk load (PostgreSQL), or the first queries crawl."""
        from django.db import connections

        from ecommerce.db import alias_for

        connection = connections[alias_for("catalog")]
        if connection.vendor == "postgresql":
            tables = [
                m._meta.db_table for m in (Product, Category, ProductCategory, Variant, ProductImage, StockMovement)
            ]
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    def _categories(self):
        slugs = dict(Category.objects.values_list("slug", "id"))
        for name, slug, parent_slug in demo.category_rows():
            if slug not in slugs:
                category = services.create_category(
                    {"name": name, "slug": slug, "parent_id": slugs.get(parent_slug), "image_url": None}
                )
                slugs[slug] = category.id
        return slugs

    def _images(self):
        """Draw the demo pictures once, where the images app serves them (``/images/images/...``)."""
        from PIL import Image, ImageDraw

        palette = [(38, 70, 83), (42, 157, 143), (233, 196, 106), (244, 162, 97), (231, 111, 81), (69, 123, 157)]
        for n in range(1, demo.DEMO_IMAGE_COUNT + 1):
            name = f"images/demo-{n}.jpg"
            if default_storage.exists(name):
                continue
            background = palette[n % len(palette)]
            accent = palette[(n * 5 + 2) % len(palette)]
            image = Image.new("RGB", (600, 600), background)
            draw = ImageDraw.Draw(image)
            draw.ellipse((150 + n * 3, 150, 450, 450 - n * 3), fill=accent)
            draw.rectangle((60, 480, 540, 520), fill=(255, 255, 255))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=80)
            default_storage.save(name, ContentFile(buffer.getvalue()))
