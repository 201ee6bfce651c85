"""PostgreSQL query plans for tests: which statements read a whole table.

The test databases hold a handful of rows, where a sequential scan (or a hash join) is the
planner's honest choice; with those off it takes an index whenever the statement lets it. A scan that
still has no index condition (a ``Seq Scan``, or an index walked end to end with only a
``Filter``) is one that would read every row of a production table; a partial index walked
whole reads only the rows it was made for.
"""

import json
from contextlib import ExitStack

from django.db import connections
from django.test.utils import CaptureQueriesContext

from ecommerce.db import context_aliases

# Hash and merge joins read their inner side whole: on a few rows the planner rightly prefers them
# to a nested loop of index probes, which it takes on a production table.
PLANNER_SETTINGS = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class CapturedStatements:
    """Every statement run on every context's database connection inside the ``with`` block: ``.all`` is
    a list of (connection, sql)."""

    def __enter__(self):
        self._stack = ExitStack()
        self._captures = [
            self._stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in context_aliases()
        ]
        return self

    def __exit__(self, *exc):
        return self._stack.__exit__(*exc)

    @property
    def all(self):
        return [
            (capture.connection, query["sql"])
            for capture in self._captures
            for query in capture.captured_queries
            if not query["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
        ]


def full_scans(connection, sql):
    """The tables ``sql`` reads without an index condition (EXPLAIN only: nothing runs)."""
    with connection.cursor() as cursor:
        for setting in PLANNER_SETTINGS:
            cursor.execute(f"SET {setting} = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (plan,) = cursor.fetchone()
        finally:
            for setting in PLANNER_SETTINGS:
                cursor.execute(f"RESET {setting}")
    if isinstance(plan, str):
        plan = json.loads(plan)
    found = []
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        kind = node["Node Type"]
        walked = kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
        if kind == "Seq Scan" or (walked and not _is_partial(connection, node["Index Name"])):
            found.append(f"{kind} on {node.get('Relation Name')}")
    return found


def _is_partial(connection, index_name):
    """A partial index holds only the rows of its predicate (say, the unpublished outbox rows):
    walking it whole is what it is for."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indpred IS NOT NULL FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid WHERE relname = %s",
            [index_name],
        )
        row = cursor.fetchone()
    return bool(row and row[0])
