"""The store as the workflow sees it where it is parsed, in milliseconds and without MLflow: which
experiment it holds (so a deleted or replaced store is noticed and its runs recorded again), or
why it cannot be used: a server that refuses this user or does not answer, a damaged sqlite file.
Each problem stops the pipeline before any job, with one message that says what to do."""

from __future__ import annotations

import base64
import http.client
import json
import os
import sqlite3
import urllib.parse
from pathlib import Path

from nndl.errors import ConfigError, TrackingError
from nndl.files import write_json
from nndl.tracking.uri import is_server

CONNECT_TIMEOUT_S = 5.0  # a server that does not take the connection in this long is down
# One that took it may be busy: its first call after a start opens its store, seconds on a loaded
# machine. Both together stay under the 15 s in which an unreachable server is reported.
ANSWER_TIMEOUT_S = 10.0


def store_identity(uri: str, experiment: str, cache: str | Path | None = None, verify: bool = True) -> str | None:
    """'<experiment id>@<its creation time>' of `experiment` in the store at `uri`; None when the
    store or the experiment does not exist yet; '' for a store this cannot look into (a database
    URI other than sqlite), which then counts as unchanged. A local sqlite file is integrity-checked
    once per size and modification time (`cache` keeps the last good one), unless not `verify`
    (a job, whose siblings are writing to it)."""
    if is_server(uri):
        return _server_identity(uri, experiment)
    if uri.startswith("sqlite:///"):
        return _sqlite_identity(Path(uri.removeprefix("sqlite:///")), experiment, cache, verify)
    return ""


def _sqlite_identity(database: Path, experiment: str, cache: str | Path | None, verify: bool) -> str | None:
    if not database.exists():
        return None
    stamp = {"path": str(database), "bytes": database.stat().st_size, "mtime_ns": database.stat().st_mtime_ns}
    checked = not verify or (cache is not None and _last_checked(Path(cache)) == stamp)
    try:
        with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30) as connection:
            if not checked and connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("PRAGMA quick_check found damage")
            row = connection.execute("SELECT experiment_id, creation_time FROM experiments "
                                     "WHERE name = ? AND lifecycle_stage = 'active'", (experiment,)).fetchone()
    except sqlite3.DatabaseError as error:
        raise TrackingError(
            f"{database} is not a readable MLflow store ({error}). Move it aside (mv {database} "
            f"{database}.damaged) and run snakemake again: it makes a new store and records every complete "
            "run again from its files (results/), without training.") from None
    if verify and cache is not None and not checked:
        write_json(stamp, cache)
    return f"{row[0]}@{row[1]}" if row else None


def _last_checked(cache: Path) -> dict | None:
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        return None


def _server_identity(uri: str, experiment: str) -> str | None:
    query = urllib.parse.urlencode({"experiment_name": experiment})
    username, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    headers = {}
    if username and password:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    try:
        status, body = _get(uri, f"/api/2.0/mlflow/experiments/get-by-name?{query}", headers)
    except (OSError, http.client.HTTPException) as error:
        raise _unreachable(uri, error) from None
    if status in (401, 403):
        who = f"the credentials of user {username!r}" if username and password else "a request without credentials"
        raise ConfigError(
            f"the MLflow server at {uri} refused {who} (HTTP {status}). Set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD to an account with EDIT permission on the experiment "
            "(scripts/mlflow-server.sh add-user NAME writes both to a file: "
            "set -a; . <that file>; set +a). Nothing ran.")
    if status == 404:  # RESOURCE_DOES_NOT_EXIST: the first job creates it
        return None
    try:
        found = json.loads(body)["experiment"] if status == 200 else None
    except (ValueError, KeyError):
        found = None
    if found is None:
        raise _unreachable(uri, f"HTTP {status}, not an MLflow answer")
    return f"{found['experiment_id']}@{found.get('creation_time')}"


def _get(uri: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """GET `path` below `uri`: (status, body), with one timeout to connect and a longer one to answer."""
    parts = urllib.parse.urlsplit(uri)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=CONNECT_TIMEOUT_S)
    try:
        connection.connect()
        connection.sock.settimeout(ANSWER_TIMEOUT_S)
        connection.request("GET", parts.path.rstrip("/") + path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _unreachable(uri: str, why: object) -> TrackingError:
    return TrackingError(
        f"the MLflow server at {uri} does not answer ({why}). Check that it is up (on its host, "
        "scripts/mlflow-server.sh up starts it or says it runs) and that this machine reaches it. "
        "Nothing ran. To train now and record later, run without it (unset MLFLOW_TRACKING_URI: the "
        f"runs go to mlflow.db here); a later run with MLFLOW_TRACKING_URI={uri} records them on the "
        "server from their files, without training.")
