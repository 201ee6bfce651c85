"""Hot read statements compiled once per connection instead of at every run.

Building a statement through the ORM (``setup_joins``, ``resolve_expression``, ``as_sql``) costs
0.3-0.5 ms of Python, far more than PostgreSQL takes to run the small, fixed-shape reads of a
checkout (bench/README.md finding 18). ``CompiledQuery`` keeps the queryset as the definition of
the statement, compiles it on first use on a connection, and then only runs the SQL text with new
parameters and converts the columns with the ORM's own converters (UUIDs, Decimals, datetimes,
JSON: the same values on PostgreSQL and SQLite as the queryset would give).

What varies between runs is a list of keys, given through ``InArray``: ``= ANY(%s)`` with one array
parameter on PostgreSQL, ``IN (SELECT value FROM json_each(%s))`` with one JSON parameter on
SQLite. The statement text is therefore the same whatever the number of keys, so it can be cached
here and prepared once by PostgreSQL (``DB_PREPARE_THRESHOLD``), where ``IN (%s, %s, ...)`` makes
one statement per list length.
"""

import json
import weakref

from django.db import connections
from django.db.models import F, Lookup


class ArraySlot:
    """The place of a run's list of keys in a compiled statement's parameters."""

    def __init__(self, field):
        self.field = field

    def adapt(self, values, connection):
        """``values`` as the one parameter ``InArray`` compiles to, each one prepared by the key's
        own field (a UUID stays a UUID on PostgreSQL, becomes 32 hex digits on SQLite)."""
        prepared = [self.field.get_db_prep_value(value, connection) for value in values]
        return prepared if connection.vendor == "postgresql" else json.dumps(prepared)


class InArray(Lookup):
    """``field`` is one of a list given at run time (``CompiledQuery.rows``); only for
    ``CompiledQuery``, which fills the parameter in."""

    lookup_name = "in_array"
    prepare_rhs = False

    def __init__(self, field_name):
        super().__init__(F(field_name), None)

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [  # noqa: S608 - a column name only
            *params,
            ArraySlot(self.lhs.output_field),
        ]

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, ArraySlot(self.lhs.output_field)]


class CompiledQuery:
    """A ``values_list`` queryset whose SQL is built once per connection.

    ``build()`` returns the queryset, filtered with ``InArray`` for each list of keys that varies
    between runs; ``rows(using, *lists)`` gives the rows the queryset would give for those lists,
    as tuples. An empty list matches nothing (no statement is run).
    """

    def __init__(self, build):
        self._build = build
        self._compiled = weakref.WeakKeyDictionary()  # connection wrapper -> (sql, params, converters)

    def _compile(self, connection):
        compiler = self._build().query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        fields = [select[0] for select in compiler.select[0 : compiler.col_count]]
        converters = [
            (index, convs, expression) for index, (convs, expression) in compiler.get_converters(fields).items()
        ]
        compiled = (sql, tuple(params), converters)
        self._compiled[connection] = compiled
        return compiled

    def rows(self, using, *lists):
        if not all(lists):
            return []
        connection = connections[using]
        sql, template, converters = self._compiled.get(connection) or self._compile(connection)
        values = iter(lists)
        params = [p.adapt(next(values), connection) if isinstance(p, ArraySlot) else p for p in template]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for index, convs, expression in converters:
                value = row[index]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[index] = value
            converted.append(tuple(row))
        return converted
