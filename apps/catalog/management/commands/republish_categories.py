"""``manage.py republish_categories``: run (or ``--list``) the pending republishes of renamed or
moved categories, what the ``catalog.republish_categories`` Celery task and its sweep do."""

from django.core.management.base import BaseCommand

from apps.catalog import republish


class Command(BaseCommand):
    help = "Republish now the documents of the products below renamed or moved categories."

    def add_arguments(self, parser):
        parser.add_argument("--list", dest="only_list", action="store_true", help="only list what is pending")

    def handle(self, *args, only_list=False, **options):
        waiting = republish.pending()
        if only_list:
            for category_id, after in waiting:
                progress = f"after product {after}" if after else "not started"
                self.stdout.write(f"{category_id}: {progress}")
            self.stdout.write(f"{len(waiting)} pending")
            return
        chunks = republish.run_pending()
        self.stdout.write(f"{len(waiting)} categories pending, {chunks} chunks republished")
