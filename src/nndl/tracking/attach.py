"""Files and tags added to finished runs without reopening them (figures, study summaries)."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from nndl.tracking.store import live_runs


def log_files(uri: str, experiment: str, files_by_run: dict[str, list[tuple[str | Path, str | None]]]) -> int:
    """{run id: [(path, artifact folder)]}. Runs that are not in `experiment` of this store are
    skipped. Returns how many files it logged."""
    client = MlflowClient(tracking_uri=uri)
    present = live_runs(client, experiment, list(files_by_run))
    for run_id in present:
        for path, folder in files_by_run[run_id]:
            client.log_artifact(run_id, str(path), artifact_path=folder)
    return sum(len(files_by_run[run_id]) for run_id in present)


def set_run_tags(uri: str, experiment: str, tags_by_run: dict[str, dict[str, str]]) -> int:
    """Set tags on finished runs of `experiment` ({run id: {tag: value}}); returns how many runs."""
    client = MlflowClient(tracking_uri=uri)
    present = live_runs(client, experiment, list(tags_by_run))
    for run_id in present:
        for key, value in tags_by_run[run_id].items():
            client.set_tag(run_id, key, value)
    return len(present)
