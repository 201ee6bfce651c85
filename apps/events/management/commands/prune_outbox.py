"""``manage.py prune_outbox``: delete published outbox rows older than the retention period."""

from django.core.management.base import BaseCommand

from apps.events import maintenance
from ecommerce.commands import number


class Command(BaseCommand):
    help = "Delete published outbox rows older than OUTBOX_RETENTION_HOURS (and old inbox records)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours", type=number(minimum=0), default=None, help="retention in hours (default: setting)"
        )

    def handle(self, *args, hours=None, **options):
        for alias, counts in maintenance.prune(retention_hours=hours).items():
            self.stdout.write(f"{alias}: {counts['outbox']} outbox rows, {counts['inbox']} inbox records deleted")
