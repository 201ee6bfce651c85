#!/usr/bin/env bash
# Runs once, when the PostgreSQL volume is empty (docker-entrypoint-initdb.d): creates one
# database per bounded context, owned by POSTGRES_USER. POSTGRES_DB (the default database)
# is created by the image itself.
set -euo pipefail
IFS=',' read -r -a databases <<<"${POSTGRES_MULTIPLE_DATABASES:-}"
for db in "${databases[@]}"; do
  db=$(echo "$db" | tr -d '[:space:]')
  [ -z "$db" ] && continue
  if [[ ! "$db" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "refusing database name '$db'" >&2
    exit 1
  fi
  echo "creating database $db"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
SELECT 'CREATE DATABASE $db OWNER "$POSTGRES_USER"'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\gexec
SQL
done
