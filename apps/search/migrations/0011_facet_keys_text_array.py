"""The facet keys become ``text[]`` on PostgreSQL (``FacetKeysField``); elsewhere they stay JSON.

A broad search unnests these lists over thousands of matches to count its facets, and an array
is quicker to unnest than a jsonb document (bench/README.md, finding 16). The existing lists
are converted in place, in order; backwards they become jsonb lists again.
"""

from django.db import migrations

import apps.search.models

TABLE = "search_searchdocument"
COLUMNS = ("facet_categories", "facet_attributes")
FORWARD = [
    # USING takes no subquery: a function does the conversion.
    "CREATE FUNCTION pg_temp.search_keys(jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE "
    "AS $$ SELECT ARRAY(SELECT jsonb_array_elements_text($1)) $$",
    f"ALTER TABLE {TABLE} "
    + ", ".join(f"ALTER COLUMN {c} TYPE text[] USING pg_temp.search_keys({c})" for c in COLUMNS),
    "DROP FUNCTION pg_temp.search_keys(jsonb)",
    f"ANALYZE {TABLE}",
]
BACKWARD = [
    f"ALTER TABLE {TABLE} " + ", ".join(f"ALTER COLUMN {c} TYPE jsonb USING to_jsonb({c})" for c in COLUMNS),
    f"ANALYZE {TABLE}",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0010_search_vector_trigger")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_run(FORWARD), _run(BACKWARD))],
            state_operations=[
                migrations.AlterField(
                    model_name="searchdocument",
                    name=column,
                    field=apps.search.models.FacetKeysField(default=list),
                )
                for column in COLUMNS
            ],
        ),
    ]
