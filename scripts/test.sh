#!/usr/bin/env bash
# The test suite, in the shapes the system runs in:
#   1. lint: ruff and the import-linter architecture contracts;
#   2. embedded tier: SQLite, file cache, inline events (no server needed);
#   3. service tier (when TEST_SERVICES=1, as in CI): one PostgreSQL database per context,
#      Redis, the Kafka-protocol broker and the Elasticsearch HTTP API, every test, with server-side
#      binding and prepared statements as production runs (DB_PREPARE_THRESHOLD);
#   4. shared-database tier: every context in one PostgreSQL database, the PostgreSQL tests, with
#      Django's default client-side binding.
# Extra arguments go to pytest (e.g. scripts/test.sh -k cart).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
PG=${PG_URL:-postgres://postgres@127.0.0.1:5432}
JOBS=${TEST_JOBS:-2}

run_pytest() {
  # pytest exits 5 when a selection holds no test; that is not a failure of the suite.
  set +e; "$PY" -m pytest -n "$JOBS" -q "$@"; local rc=$?; set -e
  [ $rc -eq 5 ] && rc=0
  return $rc
}

echo "== lint"
"$BIN/ruff" check .
"$BIN/lint-imports"

echo "== embedded tier (SQLite, file cache, inline events)"
(
  unset DATABASE_URL AUTH_DATABASE_URL CATALOG_DATABASE_URL ORDERS_DATABASE_URL SEARCH_DATABASE_URL REDIS_URL CART_REDIS_URL
  VAR_DIR="$(mktemp -d)" && export VAR_DIR
  run_pytest -m "not postgres and not redis and not kafka and not elasticsearch and not real_elasticsearch" "$@"
)

if [ "${TEST_SERVICES:-0}" = "1" ]; then
  echo "== service tier (PostgreSQL per context, Redis, Kafka protocol, Elasticsearch API)"
  DATABASE_URL="$PG/ecommerce" AUTH_DATABASE_URL="$PG/ecommerce_auth" CATALOG_DATABASE_URL="$PG/ecommerce_catalog" \
  ORDERS_DATABASE_URL="$PG/ecommerce_orders" SEARCH_DATABASE_URL="$PG/ecommerce_search" \
  REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/1} KAFKA_TESTS=1 ELASTICSEARCH_TESTS=1 VAR_DIR="$(mktemp -d)" \
  DB_PREPARE_THRESHOLD=5 run_pytest -m "not real_elasticsearch" "$@"

  echo "== shared-database tier (every context in one PostgreSQL database)"
  DATABASE_URL="$PG/ecommerce" REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/1} VAR_DIR="$(mktemp -d)" \
    run_pytest -m "postgres and not kafka and not elasticsearch and not real_elasticsearch" "$@"
else
  echo "(service tier skipped: run scripts/services.sh then TEST_SERVICES=1 make test)"
fi
