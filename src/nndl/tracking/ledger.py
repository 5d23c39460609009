"""Which MLflow run records a run's files: the one live run of `experiment`, made by this project
(PROJECT_TAG), whose `nndl.run_key` tag is the run's key and whose record is whole (RECORDED_TAG).
This project's older records and unfinished attempts with the same key are superseded
(`supersede`), so each key has at most one live run per project and experiment; runs of other
projects in the same store (a teammate's clone, another machine) are read, never touched.
"""

from __future__ import annotations

from collections import defaultdict

from mlflow.entities import Run as MlflowRun
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from nndl.tracking.tags import RECORDED_TAG, RUN_KEY_TAG, SUPERSEDED, WHOLE, project_filter

PAGE = 50_000  # search_runs' largest page


def runs_by_key(uri: str, experiment: str, project: str, keys: set[str] | list[str]) -> dict[str, list[MlflowRun]]:
    """{key: this project's live runs of `experiment` with that key (superseded ones left out),
    whole records first, newest first}."""
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    grouped: dict[str, list[MlflowRun]] = defaultdict(list)
    if found is None:
        return grouped
    wanted, token = set(keys), None
    while True:
        page = client.search_runs([found.experiment_id], project_filter(project), max_results=PAGE, page_token=token)
        for run in page:
            if run.data.tags.get(RUN_KEY_TAG) in wanted and run.data.tags.get(RECORDED_TAG) != SUPERSEDED:
                grouped[run.data.tags[RUN_KEY_TAG]].append(run)
        token = page.token
        if not token:
            break
    for runs in grouped.values():
        runs.sort(key=lambda run: (run.data.tags.get(RECORDED_TAG) != WHOLE, -run.info.start_time))
    return grouped


def recorded(runs: list[MlflowRun]) -> MlflowRun | None:
    """The whole record among one key's runs (sorted by runs_by_key), if any."""
    return runs[0] if runs and runs[0].data.tags.get(RECORDED_TAG) == WHOLE else None


class Superseder:
    """Retires this project's runs that a newer record replaces: marks each (RECORDED_TAG =
    SUPERSEDED, which every reader leaves out), ends it KILLED if it is still RUNNING, and deletes
    it (MLflow's soft delete: `mlflow gc` removes it for good) where the user may: deleting needs
    MLflow's MANAGE permission; with EDIT, what a team gives, the mark and the end are enough."""

    def __init__(self, uri: str):
        self.client = MlflowClient(tracking_uri=uri)
        self.may_delete = True
        self.deleted: list[str] = []
        self.marked: list[str] = []  # superseded, kept (the user may not delete)

    def supersede(self, runs: list[MlflowRun]) -> None:
        for run in runs:
            run_id = run.info.run_id
            if self.client.get_run(run_id).info.lifecycle_stage != "active":
                continue  # deleted already (a call retried after the store took it, or by hand)
            self.client.set_tag(run_id, RECORDED_TAG, SUPERSEDED)
            if run.info.status == "RUNNING":
                self.client.set_terminated(run_id, status="KILLED")
            if self.may_delete:
                try:
                    self.client.delete_run(run_id)
                    self.deleted.append(run_id)
                    continue
                except MlflowException as error:
                    if error.error_code != "PERMISSION_DENIED":
                        raise
                    self.may_delete = False
            self.marked.append(run_id)

    def summary(self) -> str | None:
        """One line for the job's log, if anything was superseded."""
        if not (self.deleted or self.marked):
            return None
        kept = (f"; {len(self.marked)} marked {RECORDED_TAG}={SUPERSEDED} and ended, not deleted (this user may "
                "not delete runs: MLflow's MANAGE permission)") if self.marked else ""
        return f"superseded {len(self.deleted) + len(self.marked)} of this project's older MLflow runs " \
               f"(older records, unfinished attempts): {len(self.deleted)} deleted{kept}"


def run_ids(uri: str, experiment: str, project: str, keys: list[str]) -> dict[str, str]:
    """{key: run id} of the keys whose files have a whole record of `project` in `experiment`."""
    found = runs_by_key(uri, experiment, project, keys)
    return {key: run.info.run_id for key in keys if (run := recorded(found.get(key, [])))}
