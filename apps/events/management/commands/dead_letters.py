"""``manage.py dead_letters``: list the messages consumers gave up on, and retry them.

The same retry as the admin's action (``maintenance.retry_dead_letters``): the group's handlers
run again in this process; a handled letter is deleted, a failing one keeps its new error and
one more attempt. Retry once the cause is fixed (a handler bug deployed, a missing product
created); a poison message fails again and stays.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.events import maintenance
from apps.events.models import DeadLetter
from ecommerce.commands import number
from ecommerce.db import context_aliases


class Command(BaseCommand):
    help = "List dead letters per database (newest first), or retry them with --retry ID... / --retry-all."

    def add_arguments(self, parser):
        parser.add_argument("--database", choices=context_aliases(), help="only this database (default: all)")
        parser.add_argument("--group", help="only this consumer group")
        parser.add_argument("--limit", type=number(minimum=1), default=50, help="rows listed per database (50)")
        parser.add_argument("--json", action="store_true", help="list as JSON lines, with the raw message")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--retry", nargs="+", type=number(minimum=1), metavar="ID", help="retry these ids")
        action.add_argument("--retry-all", action="store_true", help="retry every letter selected by the filters")

    def handle(self, *args, database=None, group=None, limit=50, retry=None, retry_all=False, **options):
        aliases = [database] if database else context_aliases()
        if retry and len(aliases) > 1:
            raise CommandError("ids are per database: name it with --database " + "|".join(aliases))
        selected = {}
        for alias in aliases:
            letters = DeadLetter.objects.using(alias).order_by("-created_at", "-id")
            if group:
                letters = letters.filter(group=group)
            if retry:
                letters = letters.filter(pk__in=retry)
                missing = sorted(set(retry) - set(letters.values_list("pk", flat=True)))
                if missing:
                    raise CommandError(f"no dead letter {', '.join(map(str, missing))} in {alias}")
            selected[alias] = letters
        if retry or retry_all:
            self._retry(selected)
        else:
            self._list(selected, limit, options["json"])

    def _list(self, selected, limit, as_json):
        for alias, letters in selected.items():
            total = letters.count()
            if not as_json:
                self.stdout.write(f"{alias}: {total} dead letter(s)")
            for letter in letters[:limit]:
                if as_json:
                    row = {
                        "database": alias,
                        **{
                            f: getattr(letter, f)
                            for f in ("id", "group", "topic", "event_id", "attempts", "error", "raw")
                        },
                        "created_at": letter.created_at.isoformat(),
                    }
                    self.stdout.write(json.dumps(row))
                else:
                    error = " ".join(letter.error.split())[:100]
                    self.stdout.write(
                        f"  {letter.pk:>8}  {letter.created_at:%Y-%m-%d %H:%M:%S}  {letter.group}/{letter.topic}"
                        f"  event {letter.event_id or '-'}  attempts {letter.attempts}  {error}"
                    )
            if not as_json and total > limit:
                self.stdout.write(f"  ... {total - limit} more (--limit)")

    def _retry(self, selected):
        handled = failed = 0
        for alias, letters in selected.items():
            done, again = maintenance.retry_dead_letters(alias, list(letters))
            self.stdout.write(f"{alias}: {done} handled and removed, {again} failed again")
            handled, failed = handled + done, failed + again
        if failed:  # a non-zero exit: the letters are still there, with their new error
            raise CommandError(f"{failed} dead letter(s) failed again; see `manage.py dead_letters`")
