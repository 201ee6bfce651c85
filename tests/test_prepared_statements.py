"""``DB_PREPARE_THRESHOLD``: server-side binding and prepared statements on PostgreSQL."""

import uuid

import environ
import pytest
from django.db import connections

from ecommerce.db import alias_for, build_databases


def databases(monkeypatch, tmp_path, **variables):
    for name in ("DATABASE_URL", "CATALOG_DATABASE_URL", "DB_PREPARE_THRESHOLD", "DB_POOL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return build_databases(environ.Env(), tmp_path)


def test_the_threshold_turns_on_server_side_binding_for_postgresql_only(monkeypatch, tmp_path):
    found = databases(
        monkeypatch,
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/shop",
        CATALOG_DATABASE_URL=f"sqlite:///{tmp_path / 'catalog.sqlite3'}",
        DB_PREPARE_THRESHOLD="5",
    )
    assert found["default"]["OPTIONS"]["server_side_binding"] is True
    assert found["default"]["OPTIONS"]["prepare_threshold"] == 5
    assert "server_side_binding" not in found["catalog"]["OPTIONS"]  # SQLite has no such thing


@pytest.mark.parametrize("threshold", [None, "", " "])
def test_without_the_threshold_django_s_client_side_binding_stays(monkeypatch, tmp_path, threshold):
    extra = {} if threshold is None else {"DB_PREPARE_THRESHOLD": threshold}
    found = databases(monkeypatch, tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/shop", **extra)
    assert "server_side_binding" not in found["default"].get("OPTIONS", {})


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_repeated_statement_is_prepared_exactly_when_the_threshold_is_set():
    from apps.catalog.selectors import product_exists

    alias = alias_for("catalog")
    threshold = connections[alias].settings_dict.get("OPTIONS", {}).get("prepare_threshold")
    for _ in range((threshold or 5) + 1):  # prepared at the run after the threshold
        product_exists(uuid.uuid4())
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%catalog_product%"])
        (prepared,) = cursor.fetchone()
    # Set in the service tier (as in production), unset in the shared-database tier.
    assert prepared == (1 if threshold else 0)
