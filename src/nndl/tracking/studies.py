"""A study in MLflow: its parent run, which its runs are folded under, holding its summary.

The parent is made by the first chunk job of the study that asks (`study_parent`), and ends when
the study is summarised (`log_study_summaries`), so its Duration in the runs table spans its runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlflow.tracking import MlflowClient

from nndl.errors import NndlError
from nndl.tracking.attach import log_files, set_run_tags
from nndl.tracking.store import creating_store, ensure_experiment, live_runs
from nndl.tracking.ledger import Superseder
from nndl.tracking.tags import (DESCRIPTION_TAG, PARENT_TAG, PROJECT_TAG, RECORDED_TAG, ROLE_TAG, SOURCE_TAG,
                                STUDY_ROLE, STUDY_TAG, SUPERSEDED, project_filter)


def _parents(client: MlflowClient, experiment_id: str, name: str, project: str) -> list:
    found = client.search_runs([experiment_id], filter_string=f"tags.`{STUDY_TAG}` = '{name}' and "
                                                              f"tags.`{ROLE_TAG}` = '{STUDY_ROLE}' and "
                                                              f"{project_filter(project)}")
    found = [run for run in found if run.data.tags.get(RECORDED_TAG) != SUPERSEDED]
    return sorted(found, key=lambda run: (run.info.start_time, run.info.run_id))


def study_parent(uri: str, experiment: str, name: str, source: str, project: str) -> str:
    """The id of study `name`'s parent run of `project` in `experiment`, created if there is none
    (no metrics of its own; its description, grid and end time are set when the study is
    summarised). Children carry its id in `mlflow.parentRunId`, which folds them under it in the
    runs table. Another project's parent of the same study is not this project's.

    Several chunk jobs of one study may ask at once. On the local sqlite store a lock lets one
    create it; on a server, where no lock is shared, each job that created one then keeps the
    oldest parent and supersedes its own if it lost, so all of them agree on one.
    """
    experiment_id = ensure_experiment(uri, experiment)
    client = MlflowClient(tracking_uri=uri)
    with creating_store(uri):
        found = _parents(client, experiment_id, name, project)
        if found:
            return found[0].info.run_id
        created = client.create_run(experiment_id, run_name=f"study: {name}",
                                    tags={STUDY_TAG: name, ROLE_TAG: STUDY_ROLE, SOURCE_TAG: source,
                                          PROJECT_TAG: project})
    chosen = _parents(client, experiment_id, name, project)[0].info.run_id
    if chosen != created.info.run_id:
        Superseder(uri).supersede([created])
    return chosen


def study_tags(study: dict, description: str) -> dict[str, str]:
    """A study's parent run tags: its description (the question, the answer and the theory beside
    it: nndl.report.theory_text), the grid."""
    return {DESCRIPTION_TAG: description, "task": study["task"],
            "study.metric": study["metric"],
            **{f"study.vary.{key}": json.dumps(values) for key, values in study["vary"].items()},
            **{f"study.set.{key}": json.dumps(value) for key, value in study["set"].items()}}


def end_with_children(client: MlflowClient, parent_id: str) -> None:
    """End the parent run when its last child ended (FINISHED), so its Duration spans its runs."""
    parent = client.get_run(parent_id)
    children = client.search_runs([parent.info.experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{parent_id}'",
                                  max_results=50_000)
    ends = [child.info.end_time for child in children if child.info.end_time]
    client.set_terminated(parent_id, status="FINISHED", end_time=max(ends, default=None))


def log_study_summaries(uri: str, experiment: str, summaries: dict[str, dict]) -> int:
    """Put each study's summary file and figures into its parent run ({summary path: summary}), its
    description (question, answer, theory) and grid into the parent's tags, and end it with its last run.
    Returns how many files it logged; raises NndlError if a parent run is gone."""
    client = MlflowClient(tracking_uri=uri)
    present = live_runs(client, experiment, [summary["parent_run_id"] for summary in summaries.values()])
    missing = [summary["study"]["name"] for summary in summaries.values() if summary["parent_run_id"] not in present]
    if missing:
        raise NndlError(f"the MLflow parent run of study {', '.join(map(repr, missing))} is not in experiment "
                        f"{experiment!r} at {uri} (deleted in the UI?). Run the study's chunks again: "
                        "snakemake --cores all --forcerun train_chunk (complete runs are not retrained).")
    files = {summary["parent_run_id"]: [(Path(path), "study")] + [(figure, "study") for paths in
                                                                   summary["figures"].values() for figure in paths]
             for path, summary in summaries.items()}
    logged = log_files(uri, experiment, files)
    set_run_tags(uri, experiment, {summary["parent_run_id"]: study_tags(summary["study"], summary["description"])
                                   for summary in summaries.values()})
    for parent_id in files:
        end_with_children(client, parent_id)
    return logged
