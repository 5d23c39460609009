"""The saved views that a study's link and the default runs' link open in `mlflow ui`
(nndl.tracking.views): read back from the store of a small finished project with two small
studies, decoded as the UI decodes them, their search run through MLflow's own; and every study of
config/exercises.yaml's, written into a store and read back."""

import dataclasses
import json
import os
import re

import pytest
import yaml
from mlflow.tracking import MlflowClient

from conftest import ROOT, SCHEMA, Workflow, empty_store, output_of, run_names, small_config
from nndl.config.validate import validate
from nndl.runs import grid
from nndl.runs import names
from nndl.tasks.registry import TASKS
from nndl.tasks.types import IMPLS
from nndl.tracking import views
from nndl.tracking.tags import DESCRIPTION_TAG, PARENT_TAG, RUN_KEY_TAG, STUDY_TAG

# A linear regression study whose first setting is its data's (a param only the study gives its
# runs: data.n_train), over both implementations and two seeds; a softmax one of a yes/no setting.
# (Keys in name order: the test's config file is written with sorted keys.)
STUDIES = [
    {"name": "rate", "question": "3.3: Which loss reduction fits, on how much data?", "task": "linreg",
     "impls": list(IMPLS), "vary": {"n_train": [200, 400], "reduction": ["mean", "sum"]}, "seeds": [0, 1],
     "metric": "final/test_mse"},
    {"name": "shuffle", "question": "3.7: Does reshuffling matter?", "task": "softmax", "impls": ["scratch"],
     "vary": {"shuffle": [True, False]}, "seeds": [0]},
]
# The tasks the views are tried on: the studies' two and a second classifier (the experiment's primary
# metric is the one most of them share); the views are made the same way for any task.
VIEWED_TASKS = ["linreg", "softmax", "mlp"]
# What each study's view shows: its params, its metric (best first), the parallel plot's axes, and
# the chart of the metric against its first setting.
EXPECTED = {
    "rate": {"params": ["data.n_train", "reduction", "impl", "seed"], "metric": "final/test_mse",
             "ascending": True, "axes": ["data.n_train", "reduction", "impl"], "versus": "SCATTER"},
    "shuffle": {"params": ["shuffle"], "metric": "final/test_accuracy", "ascending": False, "axes": ["shuffle"],
                "versus": "BAR"},
}

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Workflow:
    """The pipeline on the small config with the two studies, run once; what it printed is kept."""
    workflow = Workflow(tmp_path_factory.mktemp("views") / "project")
    raw = {**small_config(), "tasks": VIEWED_TASKS}
    raw["studies"] = STUDIES
    workflow.write_config(raw)
    workflow.printed = output_of(workflow.run())
    return workflow


def experiment(workflow: Workflow):
    client = MlflowClient(tracking_uri=workflow.tracking_uri)
    return client.get_experiment_by_name(small_config()["mlflow"]["experiment"])


def project(workflow: Workflow) -> str:
    return json.loads(workflow.path(names.PROJECT_FILE).read_text())["id"]


def saved_view(workflow: Workflow, view: str) -> tuple[str, dict]:
    """The view as the UI reads it: the experiment tag's envelope, its state inflated."""
    value = experiment(workflow).tags[views.VIEW_TAG_PREFIX + view]
    assert len(value) <= views.MAX_VIEW_CHARS
    return views.read_tag_value(value)


def summary(workflow: Workflow, study: str) -> dict:
    return json.loads(workflow.path(names.STUDY_SUMMARY.format(study=study)).read_text())


def drawn(state: dict) -> list[dict]:
    return [chart for chart in state["compareRunCharts"] if not chart["deleted"]]


@pytest.mark.parametrize("study", [study["name"] for study in STUDIES])
def test_a_study_opens_on_its_question(finished, study):
    """The study's view: its live runs only, the settings it varies and its metric as columns, best
    first; a parallel-coordinates plot of the settings against the metric, and no chart the UI
    would add on its own for the runs' other metrics."""
    client, found = MlflowClient(tracking_uri=finished.tracking_uri), experiment(finished)
    expected, made = EXPECTED[study], summary(finished, study)
    name, state = saved_view(finished, views.view_id(project(finished), study))
    assert name == f"study: {study}"
    assert state["selectedColumns"] == [*(f"params.`{param}`" for param in expected["params"]),
                                        f"metrics.`{expected['metric']}`"]
    # After the run's name (wide enough for a study run's) and its start, in that order; every run charted.
    assert state["columnOrder"] == [views.RUN_NAME_COLUMN, views.CREATED_COLUMN, *state["selectedColumns"]]
    assert state["columnWidths"] == {views.RUN_NAME_COLUMN: views.STUDY_NAME_WIDTH}
    assert state["runsHiddenMode"] == "SHOW_ALL"
    assert (state["orderByKey"], state["orderByAsc"]) == (f"metrics.`{expected['metric']}`", expected["ascending"])
    # The search, run by MLflow: exactly the study's runs, those folded under its parent.
    shown = client.search_runs([found.experiment_id], state["searchFilter"])
    children = client.search_runs([found.experiment_id], f"tags.`{PARENT_TAG}` = '{made['parent_run_id']}'")
    assert {run.info.run_id for run in shown} == {run.info.run_id for run in children}
    defaults = client.search_runs([found.experiment_id], views.default_filter(project(finished)))
    assert len(shown) == len(made["runs"]) and {run.info.run_id for run in shown}.isdisjoint(
        {run.info.run_id for run in defaults})
    # Every column and axis is a param each run has: a data setting is given to the runs as one.
    assert all(set(expected["params"]) <= set(run.data.params) for run in shown)
    points = {row["key"]: row["point"] for row in made["runs"]}
    assert all(run.data.params["data.n_train"] == str(points[run.data.tags[RUN_KEY_TAG]]["n_train"])
               for run in shown if "n_train" in made["study"]["vary"])
    parallel, versus, epochs = drawn(state)
    assert parallel["type"] == "PARALLEL" and parallel["selectedParams"] == expected["axes"]
    assert parallel["selectedMetrics"] == [expected["metric"]] and parallel["showAllRuns"]
    assert versus["type"] == expected["versus"]
    assert epochs["metricKey"] == TASKS[made["study"]["task"]].epoch_test_metric
    if versus["type"] == "SCATTER":
        assert versus["xaxis"]["key"] == expected["axes"][0] and versus["yaxis"]["key"] == expected["metric"]
    named = {chart.get("metricKey") for chart in state["compareRunCharts"]}
    assert {key for run in shown for key in run.data.metrics} <= named
    assert {section["uuid"] for section in state["compareRunSections"]} == {
        chart["metricSectionId"] for chart in state["compareRunCharts"]}


@pytest.mark.parametrize("study", [study["name"] for study in STUDIES])
def test_a_study_links_its_view_and_its_parent_shows_its_best(finished, study):
    """The link printed in the study report and in the parent's description opens the view as is
    (no search or sort beside it, which would replace the view's); the parent run has metrics: the
    best mean of the study's metric over its grid points, and its counts."""
    made, logged = summary(finished, study), json.loads(finished.path(names.LOGGED_STUDIES).read_text())
    link = made["view_page"]
    assert link == logged["views"][study] == views.view_page(finished.tracking_uri, made["experiment_id"],
                                                              views.view_id(project(finished), study))
    assert link.endswith(f"/#/experiments/{made['experiment_id']}/runs?viewStateShareKey="
                         f"{views.view_id(project(finished), study)}&compareRunsMode=CHART")
    assert "searchFilter" not in link and "orderByKey" not in link
    parent = MlflowClient(tracking_uri=finished.tracking_uri).get_run(made["parent_run_id"])
    assert f"]({link[link.index('#'):]})" in parent.data.tags[DESCRIPTION_TAG]
    metric, means = made["study"]["metric"], [group["mean"] for group in made["groups"] if group["mean"] is not None]
    best = min(means) if EXPECTED[study]["ascending"] else max(means)
    assert parent.data.metrics[f"best/{metric}"] == pytest.approx(best)
    assert parent.data.metrics["study/grid_points"] == len({group["label"] for group in made["groups"]})
    assert parent.data.metrics["study/runs"] == len(made["runs"])
    # The study report links the view, the parent run and the study's table as a CSV file.
    html = finished.path(names.STUDIES_REPORT).read_text()
    assert f'href="{link.replace("&", "&amp;")}"' in html and f'href="{made["parent_page"]}">study: {study}</a>' in html
    csv = re.search(rf'href="([^"]*{study}/table\.csv)"', html).group(1)
    assert (finished.path(names.STUDIES_REPORT).parent / csv).resolve() == finished.path(
        names.STUDY_TABLE.format(study=study)).resolve()


def test_the_default_runs_open_on_task_implementation_test_metric_and_time(finished):
    """The default runs' view: this project's live default runs (no study's), by name, with their
    task, implementation, final test metric and training seconds; its link closes the pipeline's
    output; the experiment's primary metric is set."""
    client, found = MlflowClient(tracking_uri=finished.tracking_uri), experiment(finished)
    name, state = saved_view(finished, views.view_id(project(finished)))
    assert name == "default runs"
    # Each task's first declared final metric, once, in the registry's order, then the training time.
    metrics = ["final/test_mse", "final/test_accuracy", "train_seconds"]  # linreg's, the classifiers', the time
    assert state["selectedColumns"] == ["tags.`task`", "params.`impl`", *(f"metrics.`{metric}`" for metric in metrics)]
    assert (state["orderByKey"], state["orderByAsc"]) == ("tags.`mlflow.runName`", True)
    shown = client.search_runs([found.experiment_id], state["searchFilter"])
    assert sorted(run.info.run_name for run in shown) == sorted(run_names(VIEWED_TASKS))
    assert [chart["metricKey"] for chart in drawn(state)] == metrics
    assert {key for run in shown for key in run.data.metrics} <= {
        chart["metricKey"] for chart in state["compareRunCharts"]}
    assert found.tags[views.PRIMARY_METRIC_TAG] == "final/test_accuracy"  # two of the three tasks'
    tracked = json.loads(finished.path(names.TRACKED_RUNS).read_text())
    assert tracked["view_page"] == views.view_page(finished.tracking_uri, found.experiment_id,
                                                   views.view_id(project(finished)), views.TABLE)
    assert f"then open {tracked['view_page']} (the default runs side by side)" in finished.printed


def test_logging_again_replaces_the_projects_views_and_leaves_a_teammates_alone(finished):
    """log_studies run again writes the same tags (one per study, and the default runs' one), and
    never touches a view another project saved in the experiment, nor the primary metric someone chose."""
    client, found = MlflowClient(tracking_uri=finished.tracking_uri), experiment(finished)
    theirs = views.tag_value("study: rate", {"searchFilter": "", "compareRunSections": [], "compareRunCharts": []})
    client.set_experiment_tag(found.experiment_id, views.VIEW_TAG_PREFIX + views.view_id("p-teammate", "rate"), theirs)
    client.set_experiment_tag(found.experiment_id, views.PRIMARY_METRIC_TAG, "final/test_loss")
    before = {key: value for key, value in found.tags.items() if key.startswith(views.VIEW_TAG_PREFIX)}
    finished.run("--forcerun", "log_studies", "track_runs")
    after = {key: value for key, value in experiment(finished).tags.items() if key.startswith(views.VIEW_TAG_PREFIX)}
    ours = {views.VIEW_TAG_PREFIX + views.view_id(project(finished), study) for study in (None, "rate", "shuffle")}
    assert set(after) == set(before) | {views.VIEW_TAG_PREFIX + views.view_id("p-teammate", "rate")}
    assert ours < set(after) and after[views.VIEW_TAG_PREFIX + views.view_id("p-teammate", "rate")] == theirs
    assert all(json.loads(after[key])["updatedAt"] > json.loads(before[key])["updatedAt"] for key in ours)
    assert experiment(finished).tags[views.PRIMARY_METRIC_TAG] == "final/test_loss"


def test_a_view_the_ui_would_refuse_is_never_written():
    """The UI opens no view over MLflow's experiment tag limit: one that large is an error here."""
    huge = {"searchFilter": "", "selectedColumns": [f"params.`{index}`" for index in range(3000)]}
    with pytest.raises(ValueError, match="over MLflow's 20000"):
        views.tag_value("huge", {**huge, "noise": os.urandom(12000).hex()})
    assert views.read_tag_value(views.tag_value("small", huge)) == ("small", huge)


EXERCISES = [grid.study_definition(study) for study in
             validate(yaml.safe_load((ROOT / "config" / "exercises.yaml").read_text()), SCHEMA)["studies"]]


@pytest.mark.parametrize("study", EXERCISES, ids=[study["name"] for study in EXERCISES])
def test_every_exercise_studys_view_reads_back_with_its_settings_metric_and_sort(study, tmp_path):
    """Each study of config/exercises.yaml: its view, written into a real store and read back, has
    the settings it varies as columns (a task's setting as itself, the data's as data.<key>; the
    implementation where it compares several; the seed where there are several), then its metric,
    sorted best first by the task's own direction, and a parallel plot of those settings against it."""
    from nndl.tracking.store import ensure_experiment

    (tmp_path / "mlflow.db").write_bytes(empty_store())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = ensure_experiment(uri, "views")
    views.save_view(MlflowClient(tracking_uri=uri), experiment_id, "p-0.study", f"study: {study['name']}",
                    views.study_view(study, "p-0", []))
    name, state = views.read_tag_value(MlflowClient(tracking_uri=uri).get_experiment(experiment_id).tags[
        views.VIEW_TAG_PREFIX + "p-0.study"])
    task = TASKS[study["task"]]
    own = {item.name for item in dataclasses.fields(task.settings)}
    varied = [key if key in own else f"data.{key}" for key in study["vary"]]
    varied += ["impl"] if len(study["impls"]) > 1 else []
    assert name == f"study: {study['name']}"
    assert state["selectedColumns"] == [*(f"params.`{param}`" for param in varied),
                                        *(["params.`seed`"] if len(study["seeds"]) > 1 else []),
                                        f"metrics.`{study['metric']}`"]
    assert (state["orderByKey"], state["orderByAsc"]) == (f"metrics.`{study['metric']}`",
                                                          task.metrics[study["metric"]] == "min")
    [parallel] = [chart for chart in state["compareRunCharts"] if chart["type"] == "PARALLEL"]
    assert (parallel["selectedParams"], parallel["selectedMetrics"]) == (varied, [study["metric"]])
    assert f"tags.`{STUDY_TAG}` = '{study['name']}'" in state["searchFilter"]
