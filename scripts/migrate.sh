#!/usr/bin/env bash
# Migrate every context database (aliases that share DATABASE_URL are no-ops).
set -euo pipefail
PY=${PYTHON:-.venv/bin/python}
for alias in default auth catalog orders search; do
  "$PY" manage.py migrate --database="$alias" --noinput "$@"
done
