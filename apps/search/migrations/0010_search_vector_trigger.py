"""PostgreSQL computes ``search_vector`` itself, in the row's own INSERT (or an UPDATE of its texts).

The backend used to insert each document and then fill its vector with an UPDATE: every row was
written twice, a rebuilt table took that much more space, and a broad query read that many more
pages (bench/README.md finding 13). The vector keeps its weights: name A, sku B, categories C,
description and attributes D, with the ``simple`` configuration. Elsewhere this is a no-op.
"""

from django.db import migrations

TEXTS = [("name_text", "A"), ("sku_text", "B"), ("category_text", "C"), ("description_text", "D"), ("attribute_text", "D")]
VECTOR = " || ".join(f"setweight(to_tsvector('simple', COALESCE(NEW.{column}, '')), '{weight}')" for column, weight in TEXTS)
FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION search_document_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := {VECTOR};
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS search_document_vector ON search_searchdocument",
    f"""
    CREATE TRIGGER search_document_vector
    BEFORE INSERT OR UPDATE OF {", ".join(column for column, _ in TEXTS)} ON search_searchdocument
    FOR EACH ROW EXECUTE FUNCTION search_document_vector()
    """,
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS search_document_vector ON search_searchdocument",
    "DROP FUNCTION IF EXISTS search_document_vector()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0009_document_version")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
