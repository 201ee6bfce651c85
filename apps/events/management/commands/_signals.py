"""Clean shutdown for the long-running commands: SIGTERM/SIGINT set an event the loop watches."""

import signal
import threading


def stop_event():
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    return stop
