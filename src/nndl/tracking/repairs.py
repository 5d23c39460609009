"""Repairs: runs that a killed job left behind, brought to the state their files say.

A SIGKILLed job cannot close its run, and a job killed between a run's record and the end of its
MLflow run leaves the run RUNNING with complete files; a server that went away leaves a run with
part of its metrics. The next chunk job mends all three (the last by recording the files again).
"""

from __future__ import annotations

import os

from mlflow.tracking import MlflowClient

from nndl.provenance import process_identity
from nndl.tracking import ledger
from nndl.tracking.tags import HOST_TAG, PID_TAG, project_filter


def reconcile_runs(uri: str, found: dict[str, list], expected: dict[str, dict],
                   superseder: ledger.Superseder) -> tuple[dict[str, str], list[str]]:
    """For runs whose files are complete, {run key: {'status': ..., 'tags': {...}}}, and this
    project's live runs of the experiment by key (nndl.tracking.ledger.runs_by_key): keep the one
    whole record of each key and supersede the key's other runs (older records, attempts a killed
    job or a lost server left); end the kept run in its expected status (FINISHED, or FAILED for a
    default run with an outcome: the gates may have changed) and set the tags that changed (a study's
    new parent run, an outcome). Returns ({key: kept run id}, the ids it changed). A key with no whole record is left
    out: its files are recorded again."""
    client = MlflowClient(tracking_uri=uri)
    kept, changed = {}, []
    for key in expected:
        runs = found.get(key, [])
        record = ledger.recorded(runs)
        superseder.supersede([run for run in runs if run is not record])
        if record is None:
            continue
        run_id, want = record.info.run_id, expected[key]
        kept[key] = run_id
        stale = {tag: value for tag, value in want["tags"].items() if record.data.tags.get(tag) != value}
        for tag, value in stale.items():
            client.set_tag(run_id, tag, value)
        if record.info.status != want["status"]:
            client.set_terminated(run_id, status=want["status"])
        if stale or record.info.status != want["status"]:
            changed.append(run_id)
    return kept, changed


def mark_orphaned_runs_killed(uri: str, experiment: str, project: str) -> list[str]:
    """Mark KILLED this project's RUNNING runs started on this host by a process that no longer exists.

    A SIGKILLed job cannot close its run; the next job that opens the store does it. Runs of live
    processes, runs from other hosts and other projects' runs are left alone. Returns the ids it marked.
    """
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    host = process_identity()["host"]
    marked = []
    running = f"attributes.status = 'RUNNING' and {project_filter(project)}"
    for run in client.search_runs([found.experiment_id], filter_string=running):
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
