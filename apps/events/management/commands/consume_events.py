"""``manage.py consume_events --group <name>``: run one consumer group's handlers from Kafka.

Stops cleanly on SIGTERM/SIGINT: the batch in flight is finished and committed, then the
consumer leaves the group.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.events.registry import subscriptions
from ecommerce.commands import number

from ._signals import stop_event


def _serves(service):
    served = settings.ECOMMERCE_SERVICES
    return "all" in served or service in served


class Command(BaseCommand):
    help = "Consume the topics of one consumer group and apply its handlers idempotently."

    def add_arguments(self, parser):
        parser.add_argument("--group", required=True)
        # librdkafka takes at most 1M messages per consume() call.
        parser.add_argument("--batch", type=number(minimum=1, maximum=1_000_000), default=500)
        parser.add_argument("--max-messages", type=number(minimum=1), default=None)
        parser.add_argument(
            "--idle-seconds", type=number(float, minimum=0), default=None, help="exit after this long without messages"
        )

    def handle(self, *args, group, batch, max_messages, idle_seconds, **options):
        from apps.events.consumer import run_consumer

        subs = subscriptions(group=group)
        if not subs:
            known = sorted({s.group for s in subscriptions()})
            raise CommandError(f"no consumer group {group!r}; registered: {', '.join(known) or 'none'}")
        not_served = sorted({s.service for s in subs if not _serves(s.service)})
        if not_served:
            raise CommandError(
                f"group {group!r} belongs to {', '.join(not_served)}, not served here "
                f"(ECOMMERCE_SERVICES={','.join(settings.ECOMMERCE_SERVICES)})"
            )
        topics = ", ".join(sorted({s.topic for s in subs}))
        self.stdout.write(f"consuming {topics} as group {group!r} (SIGTERM to stop)")
        stats = run_consumer(group, stop_event(), batch=batch, max_messages=max_messages, idle_seconds=idle_seconds)
        self.stdout.write(f"stopped after {stats.messages} messages")
