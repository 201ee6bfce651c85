#!/usr/bin/env bash
# One image, many roles: the first argument names the role.
#
#   web                 gunicorn serving ecommerce.wsgi (GUNICORN_WORKERS, GUNICORN_THREADS, PORT)
#   web-dev             Django's autoreloading development server (docker-compose.override.yml)
#   worker              Celery worker (CELERY_CONCURRENCY)
#   beat                Celery beat (periodic tasks: outbox pruning, ...)
#   relay               outbox relay: manage.py relay_outbox
#   consumer <group>    event consumer group: manage.py consume_events --group <group>
#   migrate             migrate every context database (scripts/migrate.sh), then the admin
#                       user when ADMIN_EMAIL and ADMIN_PASSWORD are set, then ensure-search-index
#   ensure-search-index with SEARCH_BACKEND=elasticsearch: wait (at most SEARCH_WAIT_SECONDS) for
#                       the cluster and build the index when the alias points at none (a web
#                       pod is not ready without it); an existing index is left alone
#   wait-databases      wait (at most DATABASES_WAIT_SECONDS) until every database accepts connections
#   wait-migrations     wait (at most MIGRATIONS_WAIT_SECONDS) until every database is migrated
#   healthcheck         the image's HEALTHCHECK: HTTP /health for web roles; for relay and
#                       consumers, their heartbeat file is at most HEARTBEAT_MAX_AGE_SECONDS
#                       (180) old; other roles: alive
#   manage <args>       any manage.py command
#   anything else       executed as given (e.g. bash)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
PY=${PYTHON:-python}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-ecommerce.settings}
ROLE_FILE=${ROLE_FILE:-/tmp/ecommerce-role}
# The relay and the consumers touch it at every turn (apps/events/heartbeat.py).
export EVENTS_HEARTBEAT_FILE=${EVENTS_HEARTBEAT_FILE:-/tmp/ecommerce-heartbeat}
ALIASES=(default auth catalog orders search)

remember_role() { echo "$1" >"$ROLE_FILE" 2>/dev/null || true; }

wait_migrations() {
  local deadline=$((SECONDS + ${MIGRATIONS_WAIT_SECONDS:-300}))
  while :; do
    local pending=""
    for alias in "${ALIASES[@]}"; do
      if ! "$PY" manage.py migrate --check --database="$alias" >/dev/null 2>&1; then
        pending="$alias"
        break
      fi
    done
    [ -z "$pending" ] && { echo "every database is migrated"; return 0; }
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "database '$pending' still has unapplied migrations after ${MIGRATIONS_WAIT_SECONDS:-300}s" >&2
      return 1
    fi
    echo "waiting for migrations ($pending)"
    sleep 3
  done
}

wait_databases() {
  "$PY" - <<'EOF'
import os, sys, time
import django
django.setup()
from django.db import connections
deadline = time.monotonic() + float(os.environ.get("DATABASES_WAIT_SECONDS", "300"))
for alias in connections:
    while True:
        try:
            connections[alias].ensure_connection()
            connections[alias].close()
            print(f"database '{alias}' is up")
            break
        except Exception as exc:  # noqa: BLE001
            if time.monotonic() > deadline:
                sys.exit(f"database '{alias}' unreachable: {exc}")
            print(f"waiting for database '{alias}': {type(exc).__name__}", flush=True)
            time.sleep(2)
EOF
}

ensure_search_index() {
  [ "${SEARCH_BACKEND:-database}" = "elasticsearch" ] || return 0
  local deadline=$((SECONDS + ${SEARCH_WAIT_SECONDS:-300})) status
  until status=$("$PY" manage.py search_status --json 2>/dev/null); do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "Elasticsearch unreachable after ${SEARCH_WAIT_SECONDS:-300}s" >&2
      return 1
    fi
    echo "waiting for Elasticsearch"
    sleep 3
  done
  if echo "$status" | "$PY" -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["indices"] else 1)'; then
    echo "search index present: $status"
  else
    echo "search alias points at no index: building it"
    "$PY" manage.py reindex --no-progress
  fi
}

healthcheck() {
  local role
  role=$(cat "$ROLE_FILE" 2>/dev/null || echo web)
  case "$role" in
    web | web-dev)
      exec "$PY" - <<'EOF'
import os, sys, urllib.request
url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # noqa: BLE001
    print(f"{url}: {exc}", file=sys.stderr)
    sys.exit(1)
EOF
      ;;
    relay | consumer-*)
      # Alive is not enough: a loop blocked in a client call stops beating.
      exec "$PY" - <<'EOF'
import os, sys, time
path, limit = os.environ["EVENTS_HEARTBEAT_FILE"], float(os.environ.get("HEARTBEAT_MAX_AGE_SECONDS", "180"))
try:
    age = time.time() - os.path.getmtime(path)
except OSError:
    print(f"no heartbeat at {path} yet", file=sys.stderr)
    sys.exit(1)
if age > limit:
    print(f"last heartbeat {age:.0f} s ago (limit {limit:.0f} s)", file=sys.stderr)
    sys.exit(1)
EOF
      ;;
    *) exit 0 ;; # the process is PID 1: if it died, the container is gone
  esac
}

role=${1:-web}
[ $# -gt 0 ] && shift

case "$role" in
  web)
    remember_role web
    # Refuses to serve with the repository's development SECRET_KEY (forgeable tokens).
    "$PY" manage.py check --deploy --fail-level ERROR >/dev/null
    # Workers, threads, timeouts and recycling: docker/gunicorn.conf.py (each from the environment).
    exec gunicorn -c docker/gunicorn.conf.py ecommerce.wsgi:application "$@"
    ;;
  web-dev)
    remember_role web-dev
    exec "$PY" manage.py runserver "0.0.0.0:${PORT:-8000}" "$@"
    ;;
  worker)
    remember_role worker
    exec celery -A ecommerce worker --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    remember_role beat
    exec celery -A ecommerce beat --loglevel "${LOG_LEVEL:-INFO}" \
      --schedule "${VAR_DIR:-/app/var}/celerybeat-schedule" "$@"
    ;;
  relay)
    remember_role relay
    exec "$PY" manage.py relay_outbox "$@"
    ;;
  consumer)
    if [ $# -lt 1 ]; then
      echo "usage: consumer <group> (e.g. consumer search)" >&2
      exit 64
    fi
    group=$1
    shift
    remember_role "consumer-$group"
    exec "$PY" manage.py consume_events --group "$group" "$@"
    ;;
  migrate)
    remember_role migrate
    PYTHON="$PY" scripts/migrate.sh "$@"
    if [ -n "${ADMIN_EMAIL:-}" ] && [ -n "${ADMIN_PASSWORD:-}" ]; then
      "$PY" manage.py ensure_admin --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD"
    fi
    ensure_search_index
    ;;
  ensure-search-index)
    ensure_search_index
    ;;
  wait-databases)
    wait_databases
    ;;
  wait-migrations)
    wait_migrations
    ;;
  healthcheck)
    healthcheck
    ;;
  manage)
    exec "$PY" manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
