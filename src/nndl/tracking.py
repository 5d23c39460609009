"""The one module that talks to MLflow. Nothing else in nndl imports mlflow.

A run is opened in one place (`tracked_run`). It always ends in a final state: FINISHED once its
outputs are final (`Run.finish`), FAILED on an exception, KILLED on SIGTERM or Ctrl-C, so no run
stays RUNNING because its job was interrupted. The store's URI comes from the environment
(MLFLOW_TRACKING_URI, which the workflow sets), never from a rule's params.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from nndl.errors import NndlError
from nndl.provenance import process_identity

HOST_TAG, PID_TAG = "nndl.host", "nndl.pid"
# MLflow's own tags: the run's description (the UI's Description box), the code that made it, the
# parent a run is folded under in the runs table.
DESCRIPTION_TAG, SOURCE_TAG, PARENT_TAG = "mlflow.note.content", "mlflow.source.name", "mlflow.parentRunId"
STUDY_TAG, ROLE_TAG, OUTCOME_TAG = "nndl.study", "nndl.role", "outcome"
STUDY_ROLE, STUDY_RUN_ROLE = "study", "study run"  # values of ROLE_TAG: a study's parent, its runs


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
    """Handle of an open run: everything a job logs goes through here.

    Metrics are sent in batches, at most every FLUSH_SECONDS and when the run ends: one call to the
    store per epoch costs about 10 ms on sqlite, as much as a short run's whole training.
    """

    FLUSH_SECONDS = 5.0
    BATCH_LIMIT = 1000  # metrics per log_batch call, MLflow's own limit

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.ended = False
        self.pending: list[Metric] = []
        self.flushed_at = time.monotonic()

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Queue finite metrics. NaN and infinity are left out: MLflow would store infinity as
        1.8e308, which flattens every chart it is in; the run's files and `outcome` tag say what
        happened."""
        stamp = int(time.time() * 1000)
        self.pending.extend(Metric(key, float(value), stamp, step or 0) for key, value in metrics.items()
                            if math.isfinite(value))
        if time.monotonic() - self.flushed_at >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Send the metrics logged since the last flush."""
        client = MlflowClient()
        for start in range(0, len(self.pending), self.BATCH_LIMIT):
            client.log_batch(self.run_id, metrics=self.pending[start:start + self.BATCH_LIMIT])
        self.pending, self.flushed_at = [], time.monotonic()

    def set_tags(self, tags: dict[str, str]) -> None:
        mlflow.set_tags(tags)

    def log_dataset(self, name: str, digest: str, source: str, context: str = "training") -> None:
        """Record the data the run trains on (the runs table's Dataset column), by name, digest and
        source, without handing MLflow the arrays."""
        import warnings

        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset

        with warnings.catch_warnings():  # "can be interpreted in multiple ways": a local path it is
            warnings.simplefilter("ignore", UserWarning)
            dataset_source = resolve_dataset_source(source)
        mlflow.log_input(MetaDataset(dataset_source, name=name, digest=digest), context=context)

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

    def finish(self, commit: Callable[[], None], status: str = "FINISHED") -> None:
        """Run `commit` (which makes the run's outputs final), then end the run in `status`
        (FINISHED; FAILED for a study run whose outcome is a finding, such as a divergence).

        Ctrl-C and SIGTERM that arrive in between are held back (Python-level handlers that only
        take note: a signal mask would not do, since the kernel may deliver the signal to one of
        torch's or MLflow's threads) and acted on right after, so a run never ends FINISHED
        without its outputs, nor has final outputs while it ends KILLED.
        """
        held: list[int] = []
        previous = {signum: signal.signal(signum, lambda received, frame: held.append(received))
                    for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.flush()
            commit()
            mlflow.end_run(status=status)
            self.ended = True
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if held:  # even if the commit failed: the signal still stops the job
                os.kill(os.getpid(), held[0])  # now delivered to the handlers restored above


@contextmanager
def tracked_run(uri: str, experiment: str, run_name: str, params: dict, tags: dict) -> Iterator[Run]:
    """Open a new run and always close it in a final state.

    The block ends the run through `Run.finish`; a block that returns without doing so leaves it
    FAILED, as does an exception; SIGTERM and Ctrl-C leave it KILLED. `tags` go in when the run
    starts, so they win over the ones MLflow guesses (`mlflow.source.name` would name Snakemake's
    temporary copy of the script).
    """
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        identity = process_identity()
        active = mlflow.start_run(run_name=run_name,
                                  tags={**tags, HOST_TAG: identity["host"], PID_TAG: identity["pid"]})
        run = Run(active.info.run_id)
        try:
            mlflow.log_params(flatten_params(params))
            yield run
        except (Terminated, KeyboardInterrupt):
            if not run.ended:
                _end_unfinished(run, "KILLED")
            raise
        except BaseException:
            if not run.ended:
                _end_unfinished(run, "FAILED")
            raise
        else:
            if not run.ended:
                _end_unfinished(run, "FAILED")
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _end_unfinished(run: Run, status: str) -> None:
    """End a run that did not finish: its metrics so far are kept if the store takes them."""
    with contextlib.suppress(MlflowException):  # the error that ended the run matters more
        run.flush()
    mlflow.end_run(status=status)


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


def reconcile_runs(uri: str, experiment: str, expected: dict[str, dict]) -> tuple[set[str], list[str]]:
    """For runs whose outputs are complete, {run id: {'status': ..., 'tags': {...}}}: end each in
    its expected status (FINISHED, or FAILED for a study run whose outcome is a finding) if its job
    was killed before it could, and set the tags that changed (a study's new parent run, an outcome
    under changed gates). Returns (the ids that are runs of `experiment` in this store, the ids it
    ended or changed)."""
    client = MlflowClient(tracking_uri=uri)
    runs = _runs_in(client, experiment, list(expected))
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


def study_parent(uri: str, experiment: str, name: str, source: str) -> str:
    """The id of study `name`'s parent run in `experiment`, created if there is none (FINISHED, no
    metrics of its own; its description and grid are set when the study is summarised). Children
    carry its id in `mlflow.parentRunId`, which folds them under it in the runs table.

    Several chunk jobs of one study may ask at once. On the local sqlite store a lock lets one
    create it; on a server, where no lock is shared, each job that created one then keeps the
    oldest parent and deletes its own if it lost, so all of them agree on one.
    """
    experiment_id = ensure_experiment(uri, experiment)
    client = MlflowClient(tracking_uri=uri)

    def parents() -> list:
        found = client.search_runs([experiment_id], filter_string=f"tags.`{STUDY_TAG}` = '{name}' and "
                                                                  f"tags.`{ROLE_TAG}` = '{STUDY_ROLE}'")
        return sorted(found, key=lambda run: (run.info.start_time, run.info.run_id))

    with _creating_store(uri):
        found = parents()
        if found:
            if found[0].info.status != "FINISHED":  # a job killed while creating it
                client.set_terminated(found[0].info.run_id, status="FINISHED")
            return found[0].info.run_id
        created = client.create_run(experiment_id, run_name=f"study: {name}",
                                    tags={STUDY_TAG: name, ROLE_TAG: STUDY_ROLE, SOURCE_TAG: source}).info.run_id
        client.set_terminated(created, status="FINISHED")
    chosen = parents()[0].info.run_id
    if chosen != created:
        client.delete_run(created)
    return chosen


def study_tags(study: dict, answer: str) -> dict[str, str]:
    """A study's parent run tags: its question and answer as the description, the grid."""
    return {DESCRIPTION_TAG: f"{study['question']}\n\n**Answer:** {answer}", "task": study["task"],
            "study.metric": study["metric"],
            **{f"study.vary.{key}": json.dumps(values) for key, values in study["vary"].items()},
            **{f"study.set.{key}": json.dumps(value) for key, value in study["set"].items()}}


def log_study_summaries(uri: str, experiment: str, summaries: dict[str, dict]) -> int:
    """Put each study's summary file and figures into its parent run ({summary path: summary}), and
    its question, answer and grid into the parent's description and tags. Returns how many files
    it logged; raises NndlError if a parent run is gone."""
    present = _runs_in(MlflowClient(tracking_uri=uri), experiment,
                       [summary["parent_run_id"] for summary in summaries.values()])
    missing = [summary["study"]["name"] for summary in summaries.values() if summary["parent_run_id"] not in present]
    if missing:
        raise NndlError(f"the MLflow parent run of study {', '.join(map(repr, missing))} is not in experiment "
                        f"{experiment!r} at {uri} (deleted in the UI?). Run the study's chunks again: "
                        "snakemake --cores all --forcerun train_chunk (complete runs are not retrained).")
    files = {summary["parent_run_id"]: [(path, "study")] + [(figure, "study") for paths in summary["figures"].values()
                                                            for figure in paths]
             for path, summary in summaries.items()}
    logged = log_files(uri, experiment, files)
    set_run_tags(uri, experiment, {summary["parent_run_id"]: study_tags(summary["study"], summary["answer"])
                                   for summary in summaries.values()})
    return logged


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


def set_run_tags(uri: str, experiment: str, tags_by_run: dict[str, dict[str, str]]) -> int:
    """Set tags on finished runs of `experiment` ({run id: {tag: value}}); returns how many runs."""
    client = MlflowClient(tracking_uri=uri)
    present = _runs_in(client, experiment, list(tags_by_run))
    for run_id in present:
        for key, value in tags_by_run[run_id].items():
            client.set_tag(run_id, key, value)
    return len(present)


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


# --- a server with basic authentication (scripts/mlflow-server.sh) ------------------------------

def add_user(uri: str, username: str, password: str, experiment: str, permission: str) -> str:
    """Create `username` on an auth-enabled server (as the admin in MLFLOW_TRACKING_USERNAME /
    MLFLOW_TRACKING_PASSWORD) with `permission` (READ, EDIT, MANAGE) on `experiment`, created if
    missing. Returns the experiment's id."""
    from mlflow.server.auth.client import AuthServiceClient

    experiment_id = ensure_experiment(uri, experiment)
    auth = AuthServiceClient(uri)
    try:
        auth.create_user(username, password)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        raise NndlError(f"user {username!r} exists on {uri} already: pick another name, or delete the user "
                        "(mlflow.server.auth.client.AuthServiceClient.delete_user) first") from None
    auth.grant_user_permission(username, "experiment", experiment_id, permission)
    return experiment_id


def change_password(uri: str, username: str, password: str, current_password: str) -> None:
    """Set `username`'s password, as that user (MLflow asks for the current one)."""
    from mlflow.server.auth.client import AuthServiceClient

    AuthServiceClient(uri).update_user_password(username, password, current_password=current_password)
