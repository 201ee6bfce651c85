"""``manage.py search_status [--backend ...] [--json]``: backend, document count, index/alias names."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.search.backends import BACKENDS, SearchUnavailable, get_backend


class Command(BaseCommand):
    help = "Show the search backend, its document count and its index/alias names."

    def add_arguments(self, parser):
        parser.add_argument("--backend", choices=BACKENDS, default=None, help="default: settings.SEARCH_BACKEND")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, backend=None, **options):
        try:
            status = get_backend(backend or settings.SEARCH_BACKEND).status()
        except SearchUnavailable as exc:
            raise CommandError(f"search backend unavailable: {exc}")
        if options["json"]:
            self.stdout.write(json.dumps(status))
            return
        for key, value in status.items():
            if isinstance(value, list):
                value = ", ".join(value) or "(none)"
            self.stdout.write(f"{key:>16}: {value}")
