#!/usr/bin/env bash
# A shared MLflow tracking server: PostgreSQL as the backend store, artifacts served by the
# server itself, HTTP basic authentication (MLflow's own `basic-auth` app), both bound to
# 127.0.0.1 unless you say otherwise.
#
#   scripts/mlflow-server.sh up                    # start PostgreSQL and `mlflow server`; prints the URI
#   scripts/mlflow-server.sh add-user NAME [EXPERIMENT] [PERMISSION]
#                                                  # a user with PERMISSION (EDIT) on EXPERIMENT (nndl)
#   scripts/mlflow-server.sh grant NAME [EXPERIMENT] [PERMISSION]
#                                                  # give an existing user PERMISSION (EDIT) there instead
#   scripts/mlflow-server.sh rotate-admin          # a new admin password
#   scripts/mlflow-server.sh down                  # stop both (the data stays in $NNDL_MLFLOW_STATE)
#
# On the first `up` the admin gets a new password (NNDL_MLFLOW_ADMIN_PASSWORD, or generated). It,
# the server's secret key and each user's password are kept in $NNDL_MLFLOW_STATE/auth/, which only
# its owner can read (admin.env, users/NAME.env: two lines a shell can source); nothing prints them.
# Then point the pipeline at the server, as a user (nothing reruns because of the switch):
#   export MLFLOW_TRACKING_URI=http://127.0.0.1:5000
#   set -a; . /tmp/nndl-mlflow-server/auth/users/NAME.env; set +a
#   .venv/bin/snakemake --cores all
#
# Settings (environment): NNDL_MLFLOW_STATE (default /tmp/nndl-mlflow-server), NNDL_MLFLOW_HOST
# (127.0.0.1; 0.0.0.0 lets every machine that reaches the port try a password),
# NNDL_MLFLOW_AUTH (on; off only for a server no one else can reach), NNDL_MLFLOW_PORT (5000),
# NNDL_PG_PORT (5433), NNDL_MLFLOW (the mlflow command, .venv/bin/mlflow),
# MLFLOW_SERVER_ENABLE_JOB_EXECUTION (false: MLflow's job runner serves GenAI features, not tracking).
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
AUTH=${NNDL_MLFLOW_AUTH:-on}
PYTHON=$(dirname "$MLFLOW")/python
AUTH_DIR=$STATE/auth
URI=http://127.0.0.1:$PORT

log() { echo "[mlflow-server] $*" >&2; }

# The server's secret key (Flask's CSRF protection), its auth database and settings, and the
# admin's credentials: made once, in a folder only the owner can read.
auth_setup() {
    mkdir -p "$AUTH_DIR" && chmod 700 "$AUTH_DIR"
    (
        umask 077
        [ -f "$AUTH_DIR/secret_key" ] || "$PYTHON" -c 'import secrets; print(secrets.token_hex(32))' >"$AUTH_DIR/secret_key"
        if [ ! -f "$AUTH_DIR/basic_auth.ini" ]; then
            cat >"$AUTH_DIR/basic_auth.ini" <<EOF
[mlflow]
# Users see only the experiments they are given (scripts/mlflow-server.sh add-user).
default_permission = NO_PERMISSIONS
database_uri = sqlite:///$AUTH_DIR/basic_auth.db
admin_username = admin
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
EOF
        fi
        # A password's hash is checked once per TTL, not on every call (0.16 s of CPU each, which
        # made every call 0.5 s). The cache lives in the server's one worker (--workers 1), which
        # also handles every password change, so a rotated password stops working at once.
        grep -q '^auth_cache_ttl_seconds' "$AUTH_DIR/basic_auth.ini" ||
            echo 'auth_cache_ttl_seconds = 300' >>"$AUTH_DIR/basic_auth.ini"
        if [ ! -f "$AUTH_DIR/admin.env" ]; then
            local password=${NNDL_MLFLOW_ADMIN_PASSWORD:-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))')}
            printf 'MLFLOW_TRACKING_USERNAME=admin\nMLFLOW_TRACKING_PASSWORD=%s\n' "$password" >"$AUTH_DIR/admin.env"
        fi
    )
}

# Run nndl.tracking.admin as the admin: the credentials go into that process's environment only.
as_admin() {
    (
        set -a
        # shellcheck disable=SC1091
        . "$AUTH_DIR/admin.env"
        set +a
        PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -W ignore -m nndl.tracking.admin "$@"
    )
}

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

# Whether the server serves the tracking API. /health answers before the server has opened its
# store, and its first API call then waits seconds on PostgreSQL (longer on a busy machine): "up"
# means that call has been made, so the pipeline's first request meets a ready server.
answers() {
    (
        if [ "$AUTH" = on ] && [ -f "$AUTH_DIR/admin.env" ]; then
            set -a
            # shellcheck disable=SC1091
            . "$AUTH_DIR/admin.env"
            set +a
        fi
        "$PYTHON" - "$URI" 2>/dev/null <<'EOF'
import base64, os, sys, urllib.error, urllib.request
uri = sys.argv[1]
urllib.request.urlopen(f"{uri}/health", timeout=2)
request = urllib.request.Request(f"{uri}/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default")
user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
if user and password:
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
try:
    urllib.request.urlopen(request, timeout=60)
except urllib.error.HTTPError as error:  # an answer all the same (404: no such experiment yet)
    sys.exit(0 if error.code == 404 else 1)
EOF
    )
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
    local app=()
    if [ "$AUTH" = on ]; then
        auth_setup
        app=(--app-name basic-auth)
    else
        log "NNDL_MLFLOW_AUTH=$AUTH: no authentication, anyone who reaches the port can change every run"
    fi
    if [ -f "$STATE/mlflow.pid" ] && kill -0 "$(cat "$STATE/mlflow.pid")" 2>/dev/null; then
        log "already running"
    else
        # The secrets reach the server through its environment only (the admin password is used
        # once, to create the admin in an empty auth database).
        (
            if [ "$AUTH" = on ]; then
                set -a
                # shellcheck disable=SC1091
                . "$AUTH_DIR/admin.env"
                set +a
                export MLFLOW_AUTH_ADMIN_PASSWORD=$MLFLOW_TRACKING_PASSWORD MLFLOW_AUTH_CONFIG_PATH=$AUTH_DIR/basic_auth.ini
                MLFLOW_FLASK_SERVER_SECRET_KEY=$(cat "$AUTH_DIR/secret_key")
                export MLFLOW_FLASK_SERVER_SECRET_KEY
                unset MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD
            fi
            # MLflow's job runner (7 huey consumers, about 240 MB each) serves its GenAI features;
            # tracking does not use it. Set MLFLOW_SERVER_ENABLE_JOB_EXECUTION=true to have it.
            export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}
            exec setsid "$MLFLOW" server "${app[@]}" \
                --backend-store-uri "postgresql://postgres@127.0.0.1:$PG_PORT/mlflow" \
                --artifacts-destination "$STATE/artifacts" --serve-artifacts \
                --host "$HOST" --port "$PORT" --workers 1 \
                >"$STATE/mlflow.log" 2>&1 </dev/null
        ) &
        echo $! >"$STATE/mlflow.pid"
    fi
    for _ in $(seq 120); do
        if answers; then
            log "up: MLflow at http://$HOST:$PORT (PostgreSQL on 127.0.0.1:$PG_PORT, artifacts in $STATE/artifacts)"
            if [ "$AUTH" = on ]; then
                log "basic authentication on; the admin's credentials are in $AUTH_DIR/admin.env (owner-only)." \
                    "Add the pipeline's user: $0 add-user NAME [EXPERIMENT] [PERMISSION]"
            fi
            echo "export MLFLOW_TRACKING_URI=$URI"
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

add_user() {
    local name=${1:?usage: $0 add-user NAME [EXPERIMENT] [PERMISSION]}
    as_admin add-user "$URI" "$AUTH_DIR" "$name" "${2:-nndl}" "${3:-EDIT}"
}

grant() {
    local name=${1:?usage: $0 grant NAME [EXPERIMENT] [PERMISSION]}
    as_admin grant "$URI" "$name" "${2:-nndl}" "${3:-EDIT}"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    add-user) shift; add_user "$@" ;;
    grant) shift; grant "$@" ;;
    rotate-admin) as_admin rotate-admin "$URI" "$AUTH_DIR" ;;
    *) echo "usage: $0 up|down|add-user NAME [EXPERIMENT] [PERMISSION]|grant NAME [EXPERIMENT] [PERMISSION]|rotate-admin" >&2; exit 2 ;;
esac
