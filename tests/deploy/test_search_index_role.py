"""The migrate role builds the Elasticsearch index when the alias points at none (a fresh cluster),
so that the web pods' readiness (which checks the alias) can pass; an existing index is kept."""

import json
import os
import subprocess
import sys
import urllib.request
import uuid

import pytest
from django.conf import settings
from django.db import connections

from tests.deploy.conftest import REPO

pytestmark = [pytest.mark.postgres, pytest.mark.elasticsearch, pytest.mark.slow]

ENTRYPOINT = REPO / "docker" / "entrypoint.sh"


def _url(alias):
    db = connections[alias].settings_dict  # the test database pytest-django made
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _es(method, path):
    request = urllib.request.Request(settings.ELASTICSEARCH_URL.rstrip("/") + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local test server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def test_ensure_search_index_builds_once_then_keeps_it(transactional_db, tmp_path):
    alias = f"deploy_ensure_{uuid.uuid4().hex[:8]}"
    # Without the xdist worker id, whose settings would suffix the index name (ecommerce/settings.py).
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL") and k != "PYTEST_XDIST_WORKER"}
    env.update(
        PYTHON=sys.executable,
        VAR_DIR=str(tmp_path),
        ROLE_FILE=str(tmp_path / "role"),
        DATABASE_URL=_url("default"),
        **{f"{ctx.upper()}_DATABASE_URL": _url(ctx) for ctx in ("auth", "catalog", "orders", "search")},
        SEARCH_BACKEND="elasticsearch",
        ELASTICSEARCH_URL=settings.ELASTICSEARCH_URL,
        ELASTICSEARCH_INDEX=alias,
        SEARCH_WAIT_SECONDS="30",
    )
    try:
        first = subprocess.run(  # noqa: S603
            [str(ENTRYPOINT), "ensure-search-index"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert first.returncode == 0, first.stdout + first.stderr
        assert "building it" in first.stdout
        status, body = _es("GET", f"/_alias/{alias}")
        assert status == 200 and len(body) == 1, body
        (index,) = body

        again = subprocess.run(  # noqa: S603
            [str(ENTRYPOINT), "ensure-search-index"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert "search index present" in again.stdout
        assert list(_es("GET", f"/_alias/{alias}")[1]) == [index], "the existing index is kept"
    finally:
        status, body = _es("GET", f"/_alias/{alias}")
        for index in body or {}:
            _es("DELETE", f"/{index}")


def test_ensure_search_index_gives_up_when_elasticsearch_stays_down(tmp_path):
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "VAR_DIR": str(tmp_path),
        "SEARCH_BACKEND": "elasticsearch",
        "ELASTICSEARCH_URL": "http://127.0.0.1:9",
        "SEARCH_WAIT_SECONDS": "2",
    }
    result = subprocess.run(  # noqa: S603
        [str(ENTRYPOINT), "ensure-search-index"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "Elasticsearch unreachable" in result.stderr


def test_database_backend_needs_no_index(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "VAR_DIR": str(tmp_path), "SEARCH_BACKEND": "database"}
    result = subprocess.run(  # noqa: S603
        [str(ENTRYPOINT), "ensure-search-index"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout == ""
