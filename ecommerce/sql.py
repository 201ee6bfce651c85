"""The checkout's hot statements, without the ORM's compiler at every run.

Building a statement through the ORM (``setup_joins``, ``resolve_expression``, ``as_sql``, the
insert compiler) costs 0.3-0.5 ms of Python, far more than PostgreSQL takes to run the small,
fixed-shape statements of a checkout: with the 13 of them below taken out of the ORM, a guest
checkout's web worker went from ~9.5 to ~5.7 ms of CPU under gunicorn (bench/README.md finding 18).

- ``CompiledQuery`` keeps a ``values_list`` queryset as the definition of a read, compiles it on
  first use on a connection, then only runs the SQL text with new parameters and converts the
  columns with the ORM's own converters (UUIDs, Decimals, datetimes, JSON: the values the
  queryset would give, on PostgreSQL and on SQLite).
- What varies between runs is a list of keys, given through ``InArray``: ``= ANY(%s)`` with one
  array parameter on PostgreSQL, ``IN (SELECT value FROM json_each(%s))`` with one JSON parameter
  on SQLite. The text is thus the same whatever the number of keys, so it is cached here and
  prepared once by PostgreSQL (``DB_PREPARE_THRESHOLD``); ``IN (%s, %s, ...)`` makes one
  statement per list length.
- ``insert_rows`` is ``bulk_create`` for a few rows: the same values (the fields' own
  ``pre_save`` and ``get_db_prep_save``), a cached ``INSERT ... VALUES`` text; ``update_row`` is
  ``filter(pk=...).update(...)`` for one row, likewise.
"""

import json
import weakref

from django.db import connections, transaction
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


# Rows per INSERT statement: a checkout inserts 1-3 rows per table; a category's republish inserts
# hundreds of events, sent in statements of this many rows (SQLite takes at most 999 parameters
# per statement on older builds).
INSERT_CHUNK = 50


class _Fallback(Exception):
    """A value needs the ORM's insert (an expression, such as a database default)."""


def _insert_sql(connection, model, fields, count, returning):
    """``INSERT INTO table (columns) VALUES (...), ... [RETURNING pk]``, built once per connection,
    column list and row count."""
    cache = _INSERTS.setdefault(connection, {})
    key = (model, tuple(field.column for field in fields), count, returning)
    sql = cache.get(key)
    if sql is None:
        _check_placeholders(fields, connection)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608
        if returning:
            sql += f" RETURNING {quote(model._meta.pk.column)}"
        cache[key] = sql
    return sql


_INSERTS = weakref.WeakKeyDictionary()  # connection wrapper -> {(model, columns, rows, returning): sql}


def insert_rows(objs, using):
    """``bulk_create(objs)`` for the few rows of a hot write path, without the ORM's compiler.

    The values are those ``bulk_create`` would write: each field's ``pre_save(obj, add=True)``
    (``auto_now_add``, ``auto_now``) prepared by the field for the connection
    (``get_db_prep_save``: UUIDs, Decimals, datetimes, JSON as on PostgreSQL or SQLite), the
    primary key filled in by its default or, for an auto-increment key, read back with
    ``RETURNING``; the objects are then marked saved in ``using``. No signals (as
    ``bulk_create``). Django's insert compiler cost ~0.3 ms of CPU per statement on the checkout,
    five statements (bench/README.md finding 18). Rows holding an expression (a database default)
    go through ``bulk_create``. Fields with their own SQL placeholder are not supported.
    """
    objs = list(objs)
    if not objs:
        return objs
    connection = connections[using]
    opts = objs[0]._meta
    for obj in objs:
        if not obj._is_pk_set():
            obj.pk = opts.pk.get_pk_value_on_save(obj)
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    groups = []  # (objects, fields, their values, read the key back)
    try:
        if not connection.features.can_return_rows_from_bulk_insert and not all(o._is_pk_set() for o in objs):
            raise _Fallback
        for returning in (False, True):
            group = [obj for obj in objs if obj._is_pk_set() != returning]
            if group:
                fields = [f for f in opts.concrete_fields if not f.generated and not (returning and f.primary_key)]
                groups.append((group, fields, [_values(obj, fields, connection) for obj in group], returning))
    except _Fallback:
        return type(objs[0])._base_manager.using(using).bulk_create(objs)
    with transaction.atomic(using=using, savepoint=False):
        for group, fields, rows, returning in groups:
            for start in range(0, len(group), INSERT_CHUNK):
                chunk = group[start : start + INSERT_CHUNK]
                sql = _insert_sql(connection, opts.model, fields, len(chunk), returning)
                params = [value for row in rows[start : start + INSERT_CHUNK] for value in row]
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    if returning:
                        for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                            setattr(obj, opts.pk.attname, pk)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


def _values(obj, fields, connection):
    values = []
    for field in fields:
        value = field.pre_save(obj, add=True)
        if hasattr(value, "resolve_expression"):
            raise _Fallback
        values.append(field.get_db_prep_save(value, connection=connection))
    return values


def _check_placeholders(fields, connection):
    for field in fields:
        placeholder = getattr(field, "get_placeholder", None)
        if placeholder is not None and placeholder(None, None, connection) != "%s":
            raise NotImplementedError(f"{field} has its own SQL placeholder")


_UPDATES = weakref.WeakKeyDictionary()  # connection wrapper -> {(model, columns): sql}


def update_row(model, pk, values, using):
    """``model.objects.filter(pk=pk).update(**values)`` for plain values (no expressions), without
    the ORM's compiler: a cached ``UPDATE ... SET ... WHERE pk = %s`` text per model and fields,
    each value prepared by its field (``get_db_prep_save``, as ``update()`` does). Returns the
    number of rows updated. The search consumer runs one per stock movement (finding 18)."""
    connection = connections[using]
    opts = model._meta
    fields = [opts.get_field(name) for name in values]
    cache = _UPDATES.setdefault(connection, {})
    key = (model, tuple(field.column for field in fields))
    sql = cache.get(key)
    if sql is None:
        _check_placeholders(fields, connection)
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        sql = f"UPDATE {quote(opts.db_table)} SET {assignments} WHERE {quote(opts.pk.column)} = %s"  # noqa: S608
        cache[key] = sql
    params = [
        field.get_db_prep_save(value, connection=connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    params.append(opts.pk.get_db_prep_value(pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
