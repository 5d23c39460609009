"""The store: created once under a lock, the experiment in it, and which runs of it are live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from nndl.tracking.probe import deleted_experiment
from nndl.tracking.local_store import lock_path


def _is_local_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite:///")


@contextmanager
def creating_store(uri: str) -> Iterator[None]:
    """Hold a lock (a file beside a local sqlite store) while the store may be created: several
    processes creating a fresh sqlite store at once crash on its schema. A server store creates
    its schema when it starts."""
    if not _is_local_sqlite(uri):
        yield
        return
    from filelock import FileLock  # opens the lock file for writing: a byte-range lock on NFS too

    database = Path(uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path(database)):
        yield


def ensure_experiment(uri: str, name: str) -> str:
    """Create the store and the experiment unless they exist; return the experiment id. Safe to
    call from several jobs at once. For the default sqlite store, artifacts go to `mlartifacts/`
    beside `mlflow.db`, as an absolute path, so `mlflow ui` started in the project root finds them.
    """
    with creating_store(uri):
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(name)
        if experiment is not None and experiment.lifecycle_stage != "active":
            raise deleted_experiment(uri, name, experiment.experiment_id)
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


def live_runs(client: MlflowClient, experiment: str, run_ids: list[str]) -> dict[str, Any]:
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


