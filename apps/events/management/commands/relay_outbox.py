"""``manage.py relay_outbox``: publish committed outbox rows of every context database.

Long-running by default (stops cleanly on SIGTERM/SIGINT after the batch in flight);
``--once`` drains what is due and exits (cron, tests, one-off catch-up); it fails (exit status 1)
when the broker left rows undelivered, so that a cron job or a Kubernetes Job can tell.
"""

from django.core.management.base import BaseCommand, CommandError

from apps.events import relay
from ecommerce.commands import number
from ecommerce.db import context_aliases

from ._signals import stop_event


class Command(BaseCommand):
    help = "Publish outbox rows to the broker (kafka) or to in-process consumers (inline)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain what is due, then exit")
        parser.add_argument("--batch-size", type=number(minimum=1), default=None)
        parser.add_argument(
            "--interval", type=number(float, minimum=0.01), default=None, help="idle poll interval in seconds"
        )
        parser.add_argument(
            "--database",
            action="append",
            dest="aliases",
            choices=context_aliases(),
            help="only this alias (repeatable)",
        )

    def handle(self, *args, once=False, batch_size=None, interval=None, aliases=None, **options):
        if once:
            totals = relay.relay_pending(aliases=aliases, batch_size=batch_size)
            for alias, count in totals.items():
                self.stdout.write(f"{alias}: {count} published")
            undelivered = totals.broker_undelivered
            if undelivered:
                per_database = ", ".join(f"{alias}: {count}" for alias, count in undelivered.items())
                raise CommandError(
                    f"broker unavailable: {sum(undelivered.values())} rows not delivered ({per_database}); "
                    "they stay in the outbox for the next run"
                )
            return
        stop = stop_event()
        self.stdout.write("relay running (SIGTERM to stop)")
        relay.run_forever(stop, interval=interval, batch_size=batch_size, aliases=aliases)
        self.stdout.write("relay stopped")
