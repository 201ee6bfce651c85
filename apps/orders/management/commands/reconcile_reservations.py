import json

from django.core.management.base import BaseCommand

from apps.orders.reconcile import reconcile_reservations
from ecommerce.commands import number


class Command(BaseCommand):
    help = "Release stock reserved for orders that were never written (or were cancelled/failed)."

    def add_arguments(self, parser):
        # At least a minute: a younger reservation may belong to a checkout still writing its order.
        parser.add_argument("--older-than-minutes", type=number(minimum=1), default=10)
        parser.add_argument("--window-hours", type=number(minimum=1), default=72)

    def handle(self, *args, older_than_minutes, window_hours, **options):
        result = reconcile_reservations(older_than_minutes=older_than_minutes, window_hours=window_hours)
        self.stdout.write(json.dumps(result))
