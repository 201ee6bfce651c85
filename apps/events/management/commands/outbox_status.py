"""``manage.py outbox_status``: backlog and age of the oldest unpublished row, per database."""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.events import maintenance


class Command(BaseCommand):
    help = "Print the outbox backlog, failing rows, oldest unpublished age and dead letters per database."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        report = maintenance.outbox_status()
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(f"{'database':<12} {'backlog':>8} {'failing':>8} {'oldest (s)':>11} {'dead letters':>13}")
            for alias, s in report.items():
                if "error" in s:
                    self.stdout.write(f"{alias:<12} unreachable: {s['error']}")
                    continue
                self.stdout.write(
                    f"{alias:<12} {s['backlog']:>8} {s['failing']:>8} "
                    f"{s['oldestUnpublishedAgeSeconds']:>11.1f} {s['deadLetters']:>13}"
                )
        down = maintenance.unreachable(report)
        if down:  # a non-zero exit for the script or probe that runs it
            raise CommandError(f"unreachable: {', '.join(down)}")
