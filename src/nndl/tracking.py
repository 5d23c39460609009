"""The one module that talks to MLflow. Nothing else in nndl imports mlflow.

A run is opened in one place (`tracked_run`). It always ends in a final state: FINISHED once its
outputs are final (`Run.finish`), FAILED on an exception, KILLED on SIGTERM or Ctrl-C, so no run
stays RUNNING because its job was interrupted. The store's URI comes from the environment
(MLFLOW_TRACKING_URI, which the workflow sets), never from a rule's params.
"""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from nndl.provenance import process_identity

HOST_TAG, PID_TAG = "nndl.host", "nndl.pid"


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (BaseException: never swallowed)."""


def _raise_terminated(signum, frame):
    raise Terminated(f"received signal {signal.Signals(signum).name}")


def _is_local_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite:///")


@contextmanager
def _creating_store(uri: str) -> Iterator[None]:
    """Hold a lock (a file beside a local sqlite store) while the store may be created: several
    processes creating a fresh sqlite store at once crash on its schema. A server store creates
    its schema when it starts."""
    if not _is_local_sqlite(uri):
        yield
        return
    database = Path(uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    # A file opened for writing: on NFS, flock becomes a byte-range lock, which needs one.
    descriptor = os.open(database.with_name(f".{database.name}.lock"), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def ensure_experiment(uri: str, name: str) -> str:
    """Create the store and the experiment unless they exist; return the experiment id. Safe to
    call from several jobs at once.

    For the default sqlite store, artifacts go to `mlartifacts/` beside `mlflow.db`, as an absolute
    path, so `mlflow ui` started in the project root finds them.
    """
    with _creating_store(uri):
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        artifact_location = None
        if _is_local_sqlite(uri):
            database = Path(uri.removeprefix("sqlite:///"))
            artifact_location = (database.parent / "mlartifacts").resolve().as_uri()
        try:
            return client.create_experiment(name, artifact_location=artifact_location)
        except MlflowException as error:  # another job (on another host) created it meanwhile
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            return client.get_experiment_by_name(name).experiment_id


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
        self.ended = False

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        mlflow.log_metrics({key: float(value) for key, value in metrics.items()}, step=step)

    def log_artifacts(self, paths: list[str | Path], folder: str | None = None) -> None:
        for path in paths:
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

    def finish(self, commit: Callable[[], None]) -> None:
        """Run `commit` (which makes the run's outputs final), then end the run FINISHED.

        Ctrl-C and SIGTERM that arrive in between are held back (Python-level handlers that only
        take note: a signal mask would not do, since the kernel may deliver the signal to one of
        torch's or MLflow's threads) and acted on right after, so a run never ends FINISHED
        without its outputs, nor has final outputs while it ends KILLED.
        """
        held: list[int] = []
        previous = {signum: signal.signal(signum, lambda received, frame: held.append(received))
                    for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            commit()
            mlflow.end_run(status="FINISHED")
            self.ended = True
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if held:  # even if the commit failed: the signal still stops the job
                os.kill(os.getpid(), held[0])  # now delivered to the handlers restored above


@contextmanager
def tracked_run(uri: str, experiment: str, run_name: str, params: dict, tags: dict) -> Iterator[Run]:
    """Open a new run and always close it in a final state.

    The block ends the run FINISHED through `Run.finish`; a block that returns without doing so
    leaves it FAILED, as does an exception; SIGTERM and Ctrl-C leave it KILLED.
    """
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        active = mlflow.start_run(run_name=run_name)
        run = Run(active.info.run_id)
        try:
            identity = process_identity()
            mlflow.set_tags({**tags, HOST_TAG: identity["host"], PID_TAG: identity["pid"]})
            mlflow.log_params(flatten_params(params))
            yield run
        except (Terminated, KeyboardInterrupt):
            if not run.ended:
                mlflow.end_run(status="KILLED")
            raise
        except BaseException:
            if not run.ended:
                mlflow.end_run(status="FAILED")
            raise
        else:
            if not run.ended:
                mlflow.end_run(status="FAILED")
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _runs_in(client: MlflowClient, experiment: str, run_ids: list[str]) -> dict[str, Any]:
    """{run id: run} for the ids that are live runs of `experiment` in this store (an id from
    another store or experiment, or a deleted run, is left out)."""
    found = client.get_experiment_by_name(experiment)
    runs = {}
    for run_id in run_ids:
        try:
            run = client.get_run(run_id)
        except MlflowException as error:
            if error.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            continue
        if found is not None and run.info.experiment_id == found.experiment_id \
                and run.info.lifecycle_stage == "active":
            runs[run_id] = run
    return runs


def finish_runs(uri: str, experiment: str, run_ids: list[str]) -> tuple[set[str], list[str]]:
    """For runs whose outputs are complete: (the ids that are runs of `experiment` in this store,
    the ids among them it ended FINISHED because their job was killed before it could)."""
    client = MlflowClient(tracking_uri=uri)
    runs = _runs_in(client, experiment, run_ids)
    repaired = [run_id for run_id, run in runs.items() if run.info.status != "FINISHED"]
    for run_id in repaired:
        client.set_terminated(run_id, status="FINISHED")
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


def log_files(uri: str, experiment: str, files_by_run: dict[str, list[tuple[str | Path, str | None]]]) -> int:
    """Add files to finished runs without reopening them: {run id: [(path, artifact folder)]}.
    Runs that are not in `experiment` of this store are skipped. Returns how many files it logged."""
    client = MlflowClient(tracking_uri=uri)
    present = _runs_in(client, experiment, list(files_by_run))
    for run_id in present:
        for path, folder in files_by_run[run_id]:
            client.log_artifact(run_id, str(path), artifact_path=folder)
    return sum(len(files_by_run[run_id]) for run_id in present)


def run_summaries(uri: str, experiment: str, run_ids: list[str]) -> list[dict]:
    """The runs of `run_ids` that are in `experiment` of this store: id, name, status, times, tags,
    latest metrics."""
    client = MlflowClient(tracking_uri=uri)
    return [{"run_id": run.info.run_id, "run_name": run.info.run_name, "status": run.info.status,
             "start_time_ms": run.info.start_time, "end_time_ms": run.info.end_time,
             "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
             "metrics": dict(run.data.metrics), "experiment_id": run.info.experiment_id}
            for run in _runs_in(client, experiment, run_ids).values()]


def store_summary(uri: str, experiment: str, run_ids: dict[str, str]) -> dict:
    """What the report shows of the store: the pipeline's runs ({name: id}) as MLflow has them,
    and how many runs the experiment holds in all."""
    experiment_id, total = experiment_run_count(uri, experiment)
    return {"tracking_uri": uri, "experiment": experiment, "experiment_id": experiment_id,
            "experiment_runs": total, "pipeline_runs": run_ids,
            "runs": run_summaries(uri, experiment, list(run_ids.values()))}


def experiment_run_count(uri: str, experiment: str) -> tuple[str | None, int]:
    """(experiment id, number of runs in it), for telling the user what else is in the store."""
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None, 0
    return found.experiment_id, len(client.search_runs([found.experiment_id], max_results=50_000))
