"""Read an MLflow store the way a user's `mlflow ui` would, for assertions in tests."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from nndl.tracking.tags import FULL_NAME_TAG


def name_of(run) -> str:
    """A run's name in the pipeline ('softmax-scratch-seed0', 'lr/linreg-scratch/learning_rate=0.1/seed0'):
    a study run's MLflow name is short and repeats across studies ('lr=0.1 · s0 · scratch')."""
    return run.data.tags.get(FULL_NAME_TAG, run.info.run_name)


def runs_by_name(tracking_uri: str, experiment: str) -> dict:
    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"experiment {experiment!r} not in {tracking_uri}"
    return {name_of(run): run for run in client.search_runs([found.experiment_id])}


def statuses_by_name(tracking_uri: str, experiment: str) -> dict[str, list[str]]:
    """{run name: [status of each MLflow run with that name, oldest first]}: every attempt."""
    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    statuses: dict[str, list[str]] = {}
    for run in client.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"]):
        statuses.setdefault(name_of(run), []).append(run.info.status)
    return statuses


def metric_steps(tracking_uri: str, run_id: str, key: str) -> list[int]:
    return [m.step for m in MlflowClient(tracking_uri=tracking_uri).get_metric_history(run_id, key)]


def artifact_paths(tracking_uri: str, run_id: str, folder: str | None = None) -> set[str]:
    return {a.path for a in MlflowClient(tracking_uri=tracking_uri).list_artifacts(run_id, folder)}


def logged_models(tracking_uri: str, run_id: str) -> list:
    """The MLflow models a run logged (MLflow 3 keeps them beside the run's artifacts, not in them)."""
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment_id = client.get_run(run_id).info.experiment_id
    return client.search_logged_models([experiment_id], filter_string=f"source_run_id = '{run_id}'")


def forget_stores() -> None:
    """Drop MLflow's cached store objects in this process: after a test moves a sqlite store's file
    aside, a cached one would still read the moved file through its open connection."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.tracking._tracking_service.utils import _tracking_store_registry

    type(_tracking_store_registry)._get_store_with_resolved_uri.cache_clear()
    for engine in SqlAlchemyStore._engine_map.values():  # the engines, and their open connections
        engine.dispose()
    SqlAlchemyStore._engine_map.clear()
