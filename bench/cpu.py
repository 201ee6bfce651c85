"""CPU time per part of the stack, read from /proc (Linux): where a benchmark's cycles went.

``python bench/cpu.py`` prints ``{part: cpu seconds}`` summed over the live processes of each
part (user + system time of every process whose command line names it); ``cpu.py settled``
waits first for the relay and the consumers to finish what a load left them. ``run.sh`` takes
a snapshot before a k6 run and a settled one after it; ``shop_report.py`` divides the
difference by the orders the run created: CPU milliseconds per order for the web workers, the
relay, each consumer, PostgreSQL, the broker and Redis. Processes that exit between two
snapshots are counted through their parent (its children's times) when it belongs to the same
part, as gunicorn's workers and PostgreSQL's backends do. k6 itself runs between the two
snapshots and is not counted, though it shares the same cores.
"""

import json
import os
import sys
import time

# First match wins: (part, substring of the command line).
PARTS = [
    ("web (gunicorn)", "gunicorn"),
    ("relay", "relay_outbox"),
    ("consumer search", "--group search"),
    ("consumer orders", "--group orders"),
    ("postgresql", "postgres"),
    ("broker (tansu)", "tansu"),
    ("redis", "redis-server"),
]
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def part_of(cmdline):
    for part, needle in PARTS:
        if needle in cmdline:
            return part
    return None


def snapshot():
    totals = {part: 0.0 for part, _ in PARTS}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        part = part_of(cmdline)
        if part is not None:
            # utime, stime, cutime, cstime: fields 14-17 of stat (12th-15th after the ")"). The
            # children's times count the workers and backends that exited and were reaped by
            # their parent (gunicorn recycles workers, PostgreSQL backends end with connections).
            totals[part] += sum(int(v) for v in fields[11:15]) / TICKS
    return totals


def settled(parts=("relay", "consumer search", "consumer orders"), idle=0.05, timeout=60.0):
    """A snapshot taken once ``parts`` have gone idle (under ``idle`` CPU seconds per second,
    twice in a row): the events a load left behind are then counted with it."""
    previous, quiet, waited = snapshot(), 0, 0.0
    while quiet < 2 and waited < timeout:
        time.sleep(1.0)
        waited += 1.0
        current = snapshot()
        busy = sum(current[p] - previous[p] for p in parts)
        quiet = quiet + 1 if busy < idle else 0
        previous = current
    return previous


if __name__ == "__main__":
    json.dump(settled() if sys.argv[1:] == ["settled"] else snapshot(), sys.stdout)
    print()
