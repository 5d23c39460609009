"""The pipeline's runs as MLflow has them, read back for the report (which then needs no MLflow)."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from nndl.tracking.store import live_runs
from nndl.tracking.uri import runs_page


def run_summaries(uri: str, experiment: str, run_ids: list[str]) -> list[dict]:
    """The runs of `run_ids` that are in `experiment` of this store: id, name, status, times, tags,
    latest metrics."""
    client = MlflowClient(tracking_uri=uri)
    return [{"run_id": run.info.run_id, "run_name": run.info.run_name, "status": run.info.status,
             "start_time_ms": run.info.start_time, "end_time_ms": run.info.end_time,
             "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
             "metrics": dict(run.data.metrics), "experiment_id": run.info.experiment_id}
            for run in live_runs(client, experiment, run_ids).values()]


def store_summary(uri: str, experiment: str, project: str, run_ids: dict[str, str | None]) -> dict:
    """What the report shows of the store: the pipeline's runs ({name: id, None if not recorded
    there}) as MLflow has them, and the page of the experiment's runs table searched for this
    project's runs. Only those runs are read: never the whole experiment, which may hold thousands."""
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else None
    return {"tracking_uri": uri, "experiment": experiment, "experiment_id": experiment_id,
            "runs_page": runs_page(uri, experiment_id, project) if experiment_id else None, "project": project,
            "pipeline_runs": run_ids,
            "runs": run_summaries(uri, experiment, [run_id for run_id in run_ids.values() if run_id])}
