"""Which MLflow run records a run's files: the one live run of `experiment` whose `nndl.run_key`
tag is the run's key and whose record is whole (RECORDED_TAG). Older records and unfinished
attempts with the same key are soft-deleted (nndl.tracking.repairs, nndl.runs.session), so each
key has at most one live run per experiment.
"""

from __future__ import annotations

from collections import defaultdict

from mlflow.entities import Run as MlflowRun
from mlflow.tracking import MlflowClient

from nndl.tracking.tags import RECORDED_TAG, RUN_KEY_TAG

PAGE = 50_000  # search_runs' largest page


def runs_by_key(uri: str, experiment: str, keys: set[str] | list[str]) -> dict[str, list[MlflowRun]]:
    """{key: the live runs of `experiment` with that key, whole records first, newest first}."""
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    grouped: dict[str, list[MlflowRun]] = defaultdict(list)
    if found is None:
        return grouped
    wanted, token = set(keys), None
    while True:
        page = client.search_runs([found.experiment_id], max_results=PAGE, page_token=token)
        for run in page:
            if run.data.tags.get(RUN_KEY_TAG) in wanted:
                grouped[run.data.tags[RUN_KEY_TAG]].append(run)
        token = page.token
        if not token:
            break
    for runs in grouped.values():
        runs.sort(key=lambda run: (run.data.tags.get(RECORDED_TAG) != "true", -run.info.start_time))
    return grouped


def recorded(runs: list[MlflowRun]) -> MlflowRun | None:
    """The whole record among one key's runs (sorted by runs_by_key), if any."""
    return runs[0] if runs and runs[0].data.tags.get(RECORDED_TAG) == "true" else None


def delete_runs(uri: str, run_ids: list[str]) -> None:
    """Soft-delete (MLflow's deleted lifecycle stage: `mlflow gc` removes them for good)."""
    client = MlflowClient(tracking_uri=uri)
    for run_id in run_ids:
        client.delete_run(run_id)


def run_ids(uri: str, experiment: str, keys: list[str]) -> dict[str, str]:
    """{key: run id} of the keys whose files have a whole record in `experiment`."""
    found = runs_by_key(uri, experiment, keys)
    return {key: run.info.run_id for key in keys if (run := recorded(found.get(key, [])))}
