"""The store as the workflow sees it where it is parsed, in milliseconds and without MLflow (whose
import costs seconds): which run keys have a live, whole record of this project in the
experiment (one paged query: a sqlite query, or the server's runs/search), so a run the store lost
(a deleted store or run, another store, a record cut short) is recorded again; or why the store
cannot be used: a server that refuses this user or does not answer, a user who may only read, a
deleted experiment, a damaged, half-made or copied sqlite file (nndl.tracking.local_store). Each problem stops the pipeline before any job, with
one message that says what to do."""

from __future__ import annotations

import base64
import http.client
import json
import os
import sqlite3
import sys
import urllib.parse
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from nndl.commands import shell, with_environment
from nndl.errors import ConfigError, TrackingError
from nndl.files import write_json
from nndl.tracking import local_store
from nndl.tracking.tags import PROJECT_TAG, RECORDED_TAG, RUN_KEY_TAG, WHOLE, live_filter
from nndl.tracking.uri import is_server, mlflow_command

CONNECT_TIMEOUT_S = 5.0  # a server that does not take the connection in this long is down
# One that took it may be busy: its first call after a start opens its store, seconds on a loaded
# machine. Both together stay under the 15 s in which an unreachable server is reported.
ANSWER_TIMEOUT_S = 10.0
SEARCH_PAGE = 10_000  # runs per runs/search call (the server allows up to 50,000)
WRITES = ("EDIT", "MANAGE")  # MLflow's permissions that may create runs and log to them


@dataclass(frozen=True)
class StoreState:
    """What the store holds for this project. `live_keys` is None where it cannot be known (a
    database URI other than sqlite: the jobs then find out)."""

    experiment_id: str | None  # None: no store or no experiment yet (the first job makes them)
    live_keys: frozenset[str] | None


def read_store(uri: str, experiment: str, project: str, cache: str | Path | None = None,
               verify: bool = True, root: str | Path | None = None, log: TextIO = sys.stderr) -> StoreState:
    """The experiment's id and the run keys with a live, whole record of `project` in it. A local
    sqlite file is integrity-checked once per size and modification time (`cache` keeps the last
    good one), unless not `verify`; one a failure left half-made is set aside if it holds no run
    (said on `log`), else stops here (nndl.tracking.local_store); one inside the project `root` whose
    experiment keeps its files outside it (a copied or moved store) stops here too."""
    if is_server(uri):
        return _Server(uri).state(experiment, project)
    if uri.startswith("sqlite:///"):
        database = Path(uri.removeprefix("sqlite:///"))
        if verify and local_store.check_schema(database, uri, log):
            return StoreState(None, frozenset())  # set aside: the first job makes a new store
        return _sqlite_state(database, uri, experiment, project, cache, verify, root)
    return StoreState(None, None)


def deleted_experiment(uri: str, experiment: str, experiment_id: str) -> ConfigError:
    """The message for an experiment deleted in the UI (or with `mlflow experiments delete`): its
    runs are kept in the store until `mlflow gc`, and restoring it brings them back."""
    return ConfigError(
        f"the MLflow experiment {experiment!r} (id {experiment_id}) at {uri} was deleted (in the UI, or "
        "with mlflow experiments delete); its runs are kept there until mlflow gc. Restore it: "
        + with_environment({"MLFLOW_TRACKING_URI": uri}, mlflow_command(), "experiments", "restore",
                           "--experiment-id", experiment_id)
        + " (or log to another one: --config 'mlflow={experiment: NEW-NAME}'). Nothing ran.")


def _sqlite_state(database: Path, uri: str, experiment: str, project: str, cache: str | Path | None,
                  verify: bool, root: str | Path | None) -> StoreState:
    if not database.exists():
        return StoreState(None, frozenset())
    stamp = {"path": str(database), "bytes": database.stat().st_size, "mtime_ns": database.stat().st_mtime_ns}
    checked = not verify or (cache is not None and _last_checked(Path(cache)) == stamp)
    try:
        with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as connection:
            if not checked and connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("PRAGMA quick_check found damage")
            row = connection.execute("SELECT experiment_id, lifecycle_stage, artifact_location FROM experiments "
                                     "WHERE name = ?", (experiment,)).fetchone()
            if row is None:
                return StoreState(None, frozenset())
            if row[1] != "active":
                raise deleted_experiment(uri, experiment, str(row[0]))
            if root is not None:
                local_store.check_files_inside(database, experiment, row[2], Path(root))
            # One query: the keys of this project's live runs whose record is whole.
            keys = connection.execute(
                "SELECT key_tag.value FROM runs "
                "JOIN tags AS key_tag ON key_tag.run_uuid = runs.run_uuid AND key_tag.key = ? "
                "JOIN tags AS project_tag ON project_tag.run_uuid = runs.run_uuid AND project_tag.key = ? "
                "AND project_tag.value = ? "
                "JOIN tags AS whole_tag ON whole_tag.run_uuid = runs.run_uuid AND whole_tag.key = ? "
                "AND whole_tag.value = ? "
                "WHERE runs.experiment_id = ? AND runs.lifecycle_stage = 'active'",
                (RUN_KEY_TAG, PROJECT_TAG, project, RECORDED_TAG, WHOLE, row[0])).fetchall()
    except sqlite3.DatabaseError as error:
        raise TrackingError(
            f"{database} is not a readable MLflow store ({error}). Move it aside "
            f"({shell('mv', database, f'{database}.damaged')}) and run snakemake again: it makes a new store and "
            "records every complete run again from its files (results/), without training.") from None
    if verify and cache is not None and not checked:
        write_json(stamp, cache)
    return StoreState(str(row[0]), frozenset(value for (value,) in keys))


def _last_checked(cache: Path) -> dict | None:
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        return None


class _Server:
    """The few REST calls the workflow makes to a tracking server, with this user's credentials."""

    def __init__(self, uri: str):
        self.uri = uri
        self.username = os.environ.get("MLFLOW_TRACKING_USERNAME")
        password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
        self.headers = {"Content-Type": "application/json"}
        if self.username and password:
            self.headers["Authorization"] = "Basic " + base64.b64encode(f"{self.username}:{password}".encode()).decode()
        else:
            self.username = None

    def state(self, experiment: str, project: str) -> StoreState:
        query = urllib.parse.urlencode({"experiment_name": experiment})
        status, found = self._call("GET", f"/api/2.0/mlflow/experiments/get-by-name?{query}")
        if status == 403:  # this user may not even read it
            raise ConfigError(may_not_write(self.uri, self.username, experiment, None))
        if status == 404:  # RESOURCE_DOES_NOT_EXIST: the first job creates it
            return StoreState(None, frozenset())
        found = (found or {}).get("experiment") if status == 200 else None
        if not found:
            raise _unreachable(self.uri, f"HTTP {status}, not an MLflow answer")
        experiment_id = str(found["experiment_id"])
        if found.get("lifecycle_stage", "active") != "active":
            raise deleted_experiment(self.uri, experiment, experiment_id)
        self._check_may_write(experiment, experiment_id)
        return StoreState(experiment_id, frozenset(self._live_keys(experiment_id, project)))

    def _check_may_write(self, experiment: str, experiment_id: str) -> None:
        """Stop here if this user's permission on the experiment is one that may not create runs
        (READ). A server without authentication, an admin, or a user whose permission comes from
        the server's default (not listed) is left to the jobs, which stop at the first refusal."""
        status, answer = self._call("GET", "/api/3.0/mlflow/users/current/permissions")
        if status != 200 or not answer or answer.get("is_admin"):
            return
        granted = [row.get("permission") for row in answer.get("permissions", [])
                   if row.get("resource_type") == "experiment" and row.get("resource_pattern") in (experiment_id, "*")]
        if granted and not any(permission in WRITES for permission in granted):
            raise ConfigError(may_not_write(self.uri, self.username, experiment, "/".join(sorted(set(granted)))))

    def _live_keys(self, experiment_id: str, project: str) -> set[str]:
        keys, token = set(), None
        while True:
            body = {"experiment_ids": [experiment_id], "max_results": SEARCH_PAGE, "run_view_type": "ACTIVE_ONLY",
                    "filter": live_filter(project)}
            if token:
                body["page_token"] = token
            status, answer = self._call("POST", "/api/2.0/mlflow/runs/search", body)
            if status == 403:
                raise ConfigError(may_not_write(self.uri, self.username, None, None))
            if status != 200 or answer is None:
                raise _unreachable(self.uri, f"HTTP {status} to runs/search")
            for run in answer.get("runs", []):
                keys.update(tag["value"] for tag in run.get("data", {}).get("tags", []) if tag["key"] == RUN_KEY_TAG)
            token = answer.get("next_page_token")
            if not token:
                return keys

    def _call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        try:
            status, raw = _request(self.uri, method, path, self.headers, body)
        except (OSError, http.client.HTTPException) as error:
            raise _unreachable(self.uri, error) from None
        if status == 401:
            who = f"the credentials of user {self.username!r}" if self.username else "a request without credentials"
            raise ConfigError(
                f"the MLflow server at {self.uri} refused {who} (HTTP {status}). Set MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD to an account with EDIT permission on the experiment "
                "(scripts/mlflow-server.sh add-user NAME writes both to a file: "
                "set -a; . <that file>; set +a). Nothing ran.")
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None


def may_not_write(uri: str, username: str | None, experiment: str | None, permission: str | None) -> str:
    """What to tell a user whose permission on the experiment may not create or log runs
    (`permission`: what the server says it has, if known)."""
    who = f"user {username!r}" if username else "this user"
    name, experiment = username or "NAME", experiment or "EXPERIMENT"
    granted = f"lets {who} only {permission}" if permission else f"does not let {who} write to"
    return (f"the MLflow server at {uri} {granted} experiment {experiment!r}: the pipeline "
            f"needs EDIT to record its runs. On the server's host an admin runs: scripts/mlflow-server.sh grant "
            f"{name} {experiment} EDIT (or scripts/mlflow-server.sh add-user NEW-NAME {experiment} EDIT for a new "
            "account). Run snakemake again then: runs complete on disk are recorded from their files, without training.")


def _request(uri: str, method: str, path: str, headers: dict[str, str], body: dict | None) -> tuple[int, bytes]:
    """`method` `path` below `uri`: (status, body), with one timeout to connect and a longer one to answer."""
    parts = urllib.parse.urlsplit(uri)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=CONNECT_TIMEOUT_S)
    try:
        connection.connect()
        connection.sock.settimeout(ANSWER_TIMEOUT_S)
        connection.request(method, parts.path.rstrip("/") + path, headers=headers,
                           body=json.dumps(body) if body is not None else None)
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
