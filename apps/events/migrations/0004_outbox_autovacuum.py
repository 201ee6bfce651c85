"""The outbox is a queue table: every row is inserted, updated once (published) and deleted
(pruned). On PostgreSQL, vacuum it far more often than the default (20 % of the table) so the
relay's index scans do not wade through dead row versions."""

from django.db import migrations

TABLES = ("events_outboxevent",)


def tune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000,"
            " autovacuum_analyze_scale_factor = 0.02)"
        )


def untune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,"
            " autovacuum_analyze_scale_factor)"
        )


class Migration(migrations.Migration):
    dependencies = [("events", "0003_retry_wait_index")]

    operations = [migrations.RunPython(tune, untune, elidable=True)]
