"""Liveness of the long-running loops (relay, consumers): each turn touches a file, and the
image's healthcheck says the process is stuck when the file is older than allowed.

A process that is alive but no longer turning (blocked in a client call, a deadlocked thread)
is invisible to "is PID 1 running"; the heartbeat's age is what a liveness probe can see.
``EVENTS_HEARTBEAT_FILE`` unset (tests, ``make run``): nothing is written.
"""

import os
import time

from django.conf import settings


def beat():
    path = settings.EVENTS_HEARTBEAT_FILE
    if path:
        with open(path, "a"):
            os.utime(path)


def age_seconds(path):
    """Seconds since the last beat, or None when there was none yet."""
    try:
        return time.time() - os.path.getmtime(path)
    except OSError:
        return None
