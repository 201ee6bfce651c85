"""argparse types for the management commands' numeric options.

A value out of range is refused before the command runs, with the option's name: usage and
exit status 2 on the command line, ``CommandError`` from ``call_command``. Without them a
negative ``--batch`` reached librdkafka as a traceback, and ``--older-than-minutes 0`` let the
reconciler release the stock of checkouts still in flight.
"""

import argparse


def number(kind=int, *, minimum=None, maximum=None):
    """``type=`` for ``add_argument``: ``kind`` (``int`` or ``float``) within ``[minimum, maximum]``."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse
