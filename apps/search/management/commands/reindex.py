"""``manage.py reindex [--backend database|elasticsearch] [--batch-size N]``

Rebuilds the whole search index from the catalogue's public interface
(``apps.catalog.selectors.product_documents``): Elasticsearch builds a new index and swaps the
alias; the database backend rebuilds its tables in one transaction. Readers keep the old index
until the swap.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.search.backends import BACKENDS, SearchUnavailable
from apps.search.services import reindex


class Command(BaseCommand):
    help = "Rebuild the search index from the catalogue (new index, then swap), with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--backend", choices=BACKENDS, default=None, help="default: settings.SEARCH_BACKEND")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")

    def handle(self, *args, backend=None, batch_size=500, no_progress=False, **options):
        if not 1 <= batch_size <= 10_000:
            raise CommandError("--batch-size must be between 1 and 10000")
        backend = backend or settings.SEARCH_BACKEND
        bar = tqdm(unit="doc", desc=f"reindex ({backend})", disable=no_progress, file=self.stderr._out)
        started = time.perf_counter()
        try:
            total = reindex(backend, batch_size=batch_size, on_batch=bar.update)
        except SearchUnavailable as exc:
            raise CommandError(f"search backend unavailable: {exc}")
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        rate = total / elapsed if elapsed > 0 else 0.0
        self.stdout.write(f"Indexed {total} documents into '{backend}' in {elapsed:.1f} s ({rate:.0f} documents/s)")
