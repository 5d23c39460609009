"""A study in MLflow: its parent run, which its runs are folded under, holding its summary (the
saved view its link opens: nndl.tracking.views).

The parent is made by the first chunk job of the study that asks (`study_parent`), and ends when
the study is summarised (`log_study_summaries`), so its Duration in the runs table spans its runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from mlflow.utils.validation import MAX_TAG_VAL_LENGTH

from nndl.errors import NndlError
from nndl.tasks.registry import task_named
from nndl.tracking.attach import log_files, set_run_tags
from nndl.tracking.store import creating_store, ensure_experiment, live_runs
from nndl.tracking.ledger import Superseder
from nndl.tracking.tags import (DESCRIPTION_TAG, PROJECT_TAG, RECORDED_TAG, ROLE_TAG, SOURCE_TAG,
                                STUDY_ROLE, STUDY_TAG, SUPERSEDED, WHOLE, project_filter)
from nndl.values import MANY, values_range


def _parents(client: MlflowClient, experiment_id: str, name: str, project: str) -> list:
    found = client.search_runs([experiment_id], filter_string=f"tags.`{STUDY_TAG}` = '{name}' and "
                                                              f"tags.`{ROLE_TAG}` = '{STUDY_ROLE}' and "
                                                              f"{project_filter(project)}")
    found = [run for run in found if run.data.tags.get(RECORDED_TAG) != SUPERSEDED]
    return sorted(found, key=lambda run: (run.info.start_time, run.info.run_id))


def study_parent(uri: str, experiment: str, name: str, source: str, project: str) -> str:
    """The id of study `name`'s parent run of `project` in `experiment`, created if there is none
    (its description, grid, metrics and end time are set when the study is summarised). Children
    carry its id in `mlflow.parentRunId`, which folds them under it in the runs table. Another
    project's parent of the same study is not this project's.

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
        # WHOLE: live, as its runs' records are, so the link to the live runs shows it and folds
        # them under it (tags.live_filter).
        created = client.create_run(experiment_id, run_name=f"study: {name}",
                                    tags={STUDY_TAG: name, ROLE_TAG: STUDY_ROLE, SOURCE_TAG: source,
                                          PROJECT_TAG: project, RECORDED_TAG: WHOLE})
    chosen = _parents(client, experiment_id, name, project)[0].info.run_id
    if chosen != created.info.run_id:
        Superseder(uri).supersede([created])
    return chosen


def _json_tag(value) -> str:
    """A setting's value or values as a tag: its JSON; a list of more than MANY values (or too long
    for a tag) as its range and count, still JSON (MLflow cuts a longer value, which is then no JSON)."""
    text = json.dumps(value)
    if isinstance(value, list) and (len(value) > MANY or len(text) > MAX_TAG_VAL_LENGTH):
        text = json.dumps(values_range(value))
    return text if len(text) <= MAX_TAG_VAL_LENGTH else json.dumps({"characters": len(text)})


def _bounded(text: str, limit: int = MAX_TAG_VAL_LENGTH) -> str:
    """A text tag MLflow keeps whole: cut to `limit` (its limit), with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def study_tags(study: dict, description: str) -> dict[str, str]:
    """A study's parent run tags: its description (the question, the answer and the theory beside
    it: nndl.report.theory_text), the grid (a long list as its range: the parent's artifacts
    study/summary.json and study/table.csv hold every value)."""
    return {DESCRIPTION_TAG: _bounded(description), "task": study["task"],
            "study.metric": study["metric"],
            **{f"study.vary.{key}": _json_tag(values) for key, values in study["vary"].items()},
            **{f"study.set.{key}": _json_tag(value) for key, value in study["set"].items()}}


def end_with_children(client: MlflowClient, parent_id: str, last_end_ms: int | None) -> None:
    """End the parent run FINISHED when its last child ended (`last_end_ms`, from the study's
    summary: its runs' own files, not a search through the experiment), so its Duration spans its runs."""
    client.set_terminated(parent_id, status="FINISHED", end_time=last_end_ms)


def log_study_summaries(uri: str, experiment: str, summaries: dict[str, dict], links: dict[str, str]) -> int:
    """Put each study's summary file and figures into its parent run ({summary path: summary}), its
    description (question, answer, theory, and `links`' link to its saved view: {study: link}) and grid
    into the parent's tags, its best value and counts into the parent's metrics, and end it with its
    last run. Returns how many files it logged; raises NndlError if a parent run is gone."""
    client = MlflowClient(tracking_uri=uri)
    present = live_runs(client, experiment, [summary["parent_run_id"] for summary in summaries.values()])
    missing = [summary["study"]["name"] for summary in summaries.values() if summary["parent_run_id"] not in present]
    if missing:
        raise NndlError(f"the MLflow parent run of study {', '.join(map(repr, missing))} is not in experiment "
                        f"{experiment!r} at {uri} (deleted in the UI?). Run the study's chunks again: "
                        "snakemake --cores all --forcerun train_chunk (complete runs are not retrained).")
    files = {summary["parent_run_id"]: [(Path(path), "study"), (Path(summary["table"]["csv"]), "study")]
             + [(figure, "study") for paths in summary["figures"].values() for figure in paths]
             for path, summary in summaries.items()}
    logged = log_files(uri, experiment, files)
    # WHOLE again: a parent made before parents carried it from their creation gets it (study_parent).
    set_run_tags(uri, experiment, {summary["parent_run_id"]: {
        **study_tags(summary["study"], described(summary, links[summary["study"]["name"]])), RECORDED_TAG: WHOLE}
        for summary in summaries.values()})
    for summary in summaries.values():
        at_ms = summary["last_end_ms"] or int(time.time() * 1000)
        client.log_batch(summary["parent_run_id"], metrics=[Metric(key, value, at_ms, 0)
                                                            for key, value in parent_metrics(summary).items()])
        end_with_children(client, summary["parent_run_id"], summary["last_end_ms"])
    return logged


def described(summary: dict, link: str) -> str:
    """The parent's description (nndl.report.theory_text's: the question first), with the link to
    the study's saved view after the question, among the lines the run page shows before "Show
    more"; relative to that page, so that it opens on whatever address the UI serves. Cut at its end
    where it is too long."""
    question = summary["study"]["question"]
    head = f"{question}\n\n**In MLflow:** [the study's runs side by side]({link[link.index('#'):]})"
    return head + _bounded(summary["description"].removeprefix(question), MAX_TAG_VAL_LENGTH - len(head))


def parent_metrics(summary: dict) -> dict[str, float]:
    """The parent's metrics: the study's best mean (over seeds) of its metric, where a grid point has
    one; how many grid points and runs it has, and how many of its runs diverged."""
    study, groups = summary["study"], summary["groups"]
    means = [group["mean"] for group in groups if group["mean"] is not None]
    best = (max if task_named(study["task"]).better(study["metric"]) == "max" else min)(means) if means else None
    return {**({f"best/{study['metric']}": best} if best is not None else {}),
            "study/grid_points": len({group["label"] for group in groups}), "study/runs": len(summary["runs"]),
            "study/diverged": sum(group["diverged"] for group in groups)}
