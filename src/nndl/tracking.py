"""The one module that talks to MLflow. Nothing else in nndl imports mlflow.

A run is opened in one place (`tracked_run`). It always ends in a final state: FINISHED when the
block completes, FAILED on an exception, KILLED on SIGTERM or Ctrl-C, so no run stays RUNNING
because its job was interrupted.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from nndl.provenance import process_identity

HOST_TAG, PID_TAG = "nndl.host", "nndl.pid"


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (BaseException: never swallowed)."""


def _raise_terminated(signum, frame):
    raise Terminated(f"received signal {signal.Signals(signum).name}")


def _is_local_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite:///")


def ensure_experiment(uri: str, name: str) -> str:
    """Create the store and the experiment once, before jobs fan out; return the experiment id.

    For the default sqlite store, artifacts go to `mlartifacts/` beside `mlflow.db`, as an absolute
    path, so `mlflow ui` started in the project root finds them.
    """
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifact_location = None
    if _is_local_sqlite(uri):
        database = Path(uri.removeprefix("sqlite:///"))
        artifact_location = (database.parent / "mlartifacts").resolve().as_uri()
    return client.create_experiment(name, artifact_location=artifact_location)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def flatten_params(settings: dict) -> dict[str, Any]:
    """{'data': {'seed': 0}} -> {'data.seed': 0}: MLflow params are flat."""
    flat: dict[str, Any] = {}
    _flatten("", settings, flat)
    return flat


class Run:
    """Handle of an open run: everything a job logs goes through here."""

    def __init__(self, run_id: str):
        self.run_id = run_id

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        mlflow.log_metrics({key: float(value) for key, value in metrics.items()}, step=step)

    def log_artifact(self, path: str | Path, folder: str | None = None) -> None:
        mlflow.log_artifact(str(path), artifact_path=folder)

    def log_torch_model(self, model, input_example) -> None:
        """Log an nn.Module with an input example and a signature (numpy in, numpy out)."""
        import torch
        from mlflow.models import infer_signature

        with torch.no_grad():
            output = model(torch.as_tensor(input_example)).cpu().numpy()
        mlflow.pytorch.log_model(
            model, name="model", input_example=input_example,
            signature=infer_signature(input_example, output),
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"],  # skip slow inference
            # pickle, not the default pt2: torch.export would import torch._dynamo (about 5 s).
            serialization_format="pickle",
        )


@contextmanager
def tracked_run(uri: str, experiment: str, run_name: str | None = None, params: dict | None = None,
                tags: dict | None = None, run_id: str | None = None) -> Iterator[Run]:
    """Open a new run (or resume `run_id`) and always close it in a final state."""
    mlflow.set_tracking_uri(uri)
    if run_id is None:
        mlflow.set_experiment(experiment)
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        active = mlflow.start_run(run_id=run_id, run_name=run_name)
        try:
            if tags or run_id is None:
                mlflow.set_tags({**(tags or {}), **{HOST_TAG: process_identity()["host"],
                                                    PID_TAG: process_identity()["pid"]}})
            if params:
                mlflow.log_params(flatten_params(params))
            yield Run(active.info.run_id)
        except (Terminated, KeyboardInterrupt):
            mlflow.end_run(status="KILLED")
            raise
        except BaseException:
            mlflow.end_run(status="FAILED")
            raise
        else:
            mlflow.end_run(status="FINISHED")
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


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


def log_results(uri: str, run_ids: dict[str, str], metrics: dict[str, dict],
                artifacts: dict[str, list[tuple[str, str | None]]]) -> None:
    """Add evaluation metrics and files to finished runs, without reopening them.

    `metrics` maps a run name to {metric: value}; `artifacts` to [(path, folder or None)].
    """
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=uri)
    now = int(time.time() * 1000)
    for run_name, run_id in run_ids.items():
        client.log_batch(run_id, metrics=[Metric(key, float(value), now, 0)
                                          for key, value in metrics.get(run_name, {}).items()])
        for path, folder in artifacts.get(run_name, []):
            client.log_artifact(run_id, str(path), artifact_path=folder)


def run_summaries(uri: str, experiment: str, run_ids: list[str] | None = None) -> list[dict]:
    """Runs of `experiment` (all, or those in `run_ids`), newest first: id, name, status, times,
    tags, latest metrics."""
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    runs = (client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"])
            if run_ids is None else [client.get_run(run_id) for run_id in run_ids])
    summaries = []
    for run in runs:
        summaries.append({
            "run_id": run.info.run_id, "run_name": run.info.run_name, "status": run.info.status,
            "start_time_ms": run.info.start_time, "end_time_ms": run.info.end_time,
            "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
            "metrics": dict(run.data.metrics), "experiment_id": found.experiment_id,
        })
    return summaries


def experiment_run_count(uri: str, experiment: str) -> tuple[str | None, int]:
    """(experiment id, number of runs in it), for telling the user what else is in the store."""
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None, 0
    return found.experiment_id, len(client.search_runs([found.experiment_id], max_results=50_000))
