#!/usr/bin/env bash
# A shared MLflow tracking server: PostgreSQL as the backend store, artifacts served by the
# server itself, both bound to 127.0.0.1 unless you say otherwise.
#
#   scripts/mlflow-server.sh up      # start PostgreSQL and `mlflow server`; prints the URI
#   scripts/mlflow-server.sh down    # stop both (the data stays in $NNDL_MLFLOW_STATE)
#
# Then point the pipeline at it (nothing reruns because of the switch):
#   export MLFLOW_TRACKING_URI=http://127.0.0.1:5000
#   .venv/bin/snakemake --cores all
#
# Settings (environment): NNDL_MLFLOW_STATE (default /tmp/nndl-mlflow-server), NNDL_MLFLOW_HOST
# (127.0.0.1; use 0.0.0.0 only behind a firewall, the server has no authentication),
# NNDL_MLFLOW_PORT (5000), NNDL_PG_PORT (5433), NNDL_MLFLOW (the mlflow command, .venv/bin/mlflow).
# PostgreSQL comes from Debian's postgresql package (installed when run as root); it runs as the
# `postgres` user when this script runs as root, since PostgreSQL refuses to run as root (so the
# state folder must then be one that user can reach).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${NNDL_MLFLOW_STATE:-/tmp/nndl-mlflow-server}
HOST=${NNDL_MLFLOW_HOST:-127.0.0.1}
PORT=${NNDL_MLFLOW_PORT:-5000}
PG_PORT=${NNDL_PG_PORT:-5433}
MLFLOW=${NNDL_MLFLOW:-$ROOT/.venv/bin/mlflow}

log() { echo "[mlflow-server] $*" >&2; }

as_db_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bin" ]; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
            log "installing Debian's postgresql"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null
            bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
        else
            log "PostgreSQL is not installed: sudo apt-get install postgresql"
            exit 1
        fi
    fi
    echo "$bin"
}

up() {
    local bin
    bin=$(pg_bin)
    # PostgreSQL's own folder (data, socket, log), owned by the user it runs as.
    local pg="$STATE/postgres"
    mkdir -p "$STATE/artifacts" "$pg/socket"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$pg"; fi
    if [ ! -f "$pg/data/PG_VERSION" ]; then
        as_db_user "$bin/initdb" -D "$pg/data" -U postgres -A trust >/dev/null
    fi
    if ! as_db_user "$bin/pg_ctl" -D "$pg/data" status >/dev/null 2>&1; then
        as_db_user "$bin/pg_ctl" -D "$pg/data" -l "$pg/postgres.log" -w \
            -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $pg/socket" start >/dev/null
    fi
    if ! as_db_user "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'mlflow'" | grep -q 1; then
        as_db_user "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres mlflow
    fi
    if [ -f "$STATE/mlflow.pid" ] && kill -0 "$(cat "$STATE/mlflow.pid")" 2>/dev/null; then
        log "already running"
    else
        setsid "$MLFLOW" server \
            --backend-store-uri "postgresql://postgres@127.0.0.1:$PG_PORT/mlflow" \
            --artifacts-destination "$STATE/artifacts" --serve-artifacts \
            --host "$HOST" --port "$PORT" --workers 2 \
            >"$STATE/mlflow.log" 2>&1 < /dev/null &
        echo $! > "$STATE/mlflow.pid"
    fi
    for _ in $(seq 120); do
        if "$(dirname "$MLFLOW")/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/health', timeout=2)" 2>/dev/null; then
            log "up: MLflow at http://$HOST:$PORT (PostgreSQL on 127.0.0.1:$PG_PORT, artifacts in $STATE/artifacts)"
            echo "export MLFLOW_TRACKING_URI=http://127.0.0.1:$PORT"
            return 0
        fi
        sleep 1
    done
    log "the server did not answer; last lines of $STATE/mlflow.log:"
    tail -n 30 "$STATE/mlflow.log" >&2
    return 1
}

down() {
    if [ -f "$STATE/mlflow.pid" ]; then
        # The server runs in its own session: stop its workers with it.
        kill -- -"$(cat "$STATE/mlflow.pid")" 2>/dev/null || kill "$(cat "$STATE/mlflow.pid")" 2>/dev/null || true
        rm -f "$STATE/mlflow.pid"
    fi
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$bin" ] && [ -d "$STATE/postgres/data" ]; then
        as_db_user "$bin/pg_ctl" -D "$STATE/postgres/data" -m fast stop >/dev/null 2>&1 || true
    fi
    log "down (data kept in $STATE)"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
