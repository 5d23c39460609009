"""Repairs: runs that a killed job left behind, brought to the state their files say.

A SIGKILLed job cannot close its run, and a job killed between a run's record and the end of its
MLflow run leaves the run RUNNING with complete files. The next chunk job mends both.
"""

from __future__ import annotations

import os

from mlflow.tracking import MlflowClient

from nndl.provenance import process_identity
from nndl.tracking.store import live_runs
from nndl.tracking.tags import HOST_TAG, PID_TAG


def reconcile_runs(uri: str, experiment: str, expected: dict[str, dict]) -> tuple[set[str], list[str]]:
    """For runs whose outputs are complete, {run id: {'status': ..., 'tags': {...}}}: end each in
    its expected status (FINISHED, or FAILED for a study run whose outcome is a finding) if its job
    was killed before it could, and set the tags that changed (a study's new parent run, an outcome
    under changed gates). Returns (the ids that are runs of `experiment` in this store, the ids it
    ended or changed)."""
    client = MlflowClient(tracking_uri=uri)
    runs = live_runs(client, experiment, list(expected))
    repaired = []
    for run_id, run in runs.items():
        want = expected[run_id]
        stale = {key: value for key, value in want.get("tags", {}).items() if run.data.tags.get(key) != value}
        for key, value in stale.items():
            client.set_tag(run_id, key, value)
        if run.info.status != want["status"]:
            client.set_terminated(run_id, status=want["status"])
        if stale or run.info.status != want["status"]:
            repaired.append(run_id)
    return set(runs), repaired


def mark_orphaned_runs_killed(uri: str, experiment: str) -> list[str]:
    """Mark KILLED the RUNNING runs started on this host by a process that no longer exists.

    A SIGKILLed job cannot close its run; the next job that opens the store does it. Runs of live
    processes, and runs from other hosts, are left alone. Returns the ids it marked.
    """
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    host = process_identity()["host"]
    marked = []
    for run in client.search_runs([found.experiment_id], filter_string="attributes.status = 'RUNNING'"):
        if run.data.tags.get(HOST_TAG) != host or not run.data.tags.get(PID_TAG, "").isdigit():
            continue
        if not _process_alive(int(run.data.tags[PID_TAG])):
            client.set_terminated(run.info.run_id, status="KILLED")
            marked.append(run.info.run_id)
    return marked


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
