"""Saved views of the runs page, and their links: a study's opens on its runs, with the settings it
varies and its metric as columns, sorted best first, and on charts whose parallel-coordinates plot
draws those settings against the metric; the default runs' opens on their task, implementation,
final test metric and training time.

A saved view is MLflow's shared view (MLflow 3.17's UI: useSharedExperimentViewState.ts,
savedViewEnvelope.ts; checked in Chromium): an experiment tag VIEW_TAG_PREFIX + <id>, whose value is
an envelope {name, createdAt, updatedAt, state}, the state "deflate;" + base64 of the zlib-compressed
JSON of the page's search (filter, sort) and UI state (columns, charts). The page opens it from
`?viewStateShareKey=<id>`; a searchFilter or orderByKey beside it in the link would replace it.
Its id is the project's and the study's, so logging a study again replaces its view, and a
teammate's project in the same store has views of its own, which this one never touches.

No mlflow import at the top: the study report, which imports no MLflow, makes its links here.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import zlib
from collections import Counter

from nndl.tasks.registry import task_named
from nndl.tracking.tags import ROLE_TAG, RUN_KEY_TAG, STUDY_RUN_ROLE, STUDY_TAG, live_filter
from nndl.tracking.uri import runs_page

VIEW_TAG_PREFIX = "mlflow.sharedViewState."
# The metric the runs page charts first where no saved view says otherwise: a metric's own name.
PRIMARY_METRIC_TAG = "mlflow.experiment.primaryMetric.name"
MAX_VIEW_CHARS = 20_000  # an experiment tag's limit, which the UI also checks before it opens a view
CHART, TABLE = "CHART", "TABLE"  # what a link opens on: the Compare charts, or the runs table
COMPRESSED = "deflate;"
DATA_PARAM = "data.{key}"  # a study run's varied data setting as a param (save_study_views)
RUN_NAME_KEY = "tags.`mlflow.runName`"  # the runs table's sort by name
# The runs table's own columns (ag-grid column ids, as the UI names them): the run's name, its start.
RUN_NAME_COLUMN, CREATED_COLUMN = "attributes.`Run Name`", "runDateAndNestInfo"
STUDY_NAME_WIDTH = 320  # pixels: 'n_train=400 · reduction=sum · s1 · scratch' whole (the UI's default: 190)
PAGE = 1000  # runs per search: MLflow's most


def view_id(project: str, study: str | None = None) -> str:
    """A study's view id, or (no study) the default runs' one; study names are [a-z0-9-]."""
    return f"{project}.study.{study}" if study else f"{project}.runs"


def view_page(uri: str, experiment_id: str, view: str, mode: str = CHART) -> str:
    """The link that opens saved view `view` on the store's UI (its runs page: tracking.uri.runs_page)."""
    return f"{runs_page(uri, experiment_id)}?viewStateShareKey={urllib.parse.quote(view)}&compareRunsMode={mode}"


def study_filter(project: str, study: str) -> str:
    """MLflow's search filter for the live runs of `project`'s study `study` (not its parent)."""
    return f"tags.`{STUDY_TAG}` = '{study}' and tags.`{ROLE_TAG}` = '{STUDY_RUN_ROLE}' and {live_filter(project)}"


def default_filter(project: str) -> str:
    """MLflow's search filter for `project`'s live default runs: no study's runs or parents."""
    return f"{live_filter(project)} and tags.`{ROLE_TAG}` IS NULL"


def column(kind: str, key: str) -> str:
    """A runs table column (and sort key) as the UI names it: metrics.`final/test_accuracy`."""
    return f"{kind}.`{key}`"


def study_params(study: dict) -> list[str]:
    """The params that show what a study varies, in the order of its `vary`: a task's setting is
    its own param, a data setting `data.<key>`; the implementation where it compares several."""
    settings = task_named(study["task"]).settings.keys()
    found = [key if key in settings else DATA_PARAM.format(key=key) for key in study["vary"]]
    return found + (["impl"] if len(study["impls"]) > 1 else [])


def _numeric(values: list) -> bool:
    return all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)


def _chart(kind: str, uuid: str, section: str, **fields) -> dict:
    return {"uuid": uuid, "type": kind, "metricSectionId": section, "deleted": False, "isGenerated": False, **fields}


def _charts(section: str, shown: list[dict], metric_keys: list[str]) -> list[dict]:
    """`shown`, then a deleted placeholder for each other metric of the runs: the UI adds a chart
    of its own for every metric that no chart names, unless a deleted one does."""
    named = {chart["metricKey"] for chart in shown if "metricKey" in chart}
    hidden = [{**_chart("BAR", f"hidden-{index}", section, metricKey=key), "deleted": True, "isGenerated": True}
              for index, key in enumerate(key for key in sorted(metric_keys) if key not in named)]
    return shown + hidden


def _state(search: str, order_by: str, ascending: bool, columns: list[str], section: str, charts: list[dict],
           name_width: int | None = None) -> dict:
    """A view's state: the search, sort and UI state of the runs page. Every run is drawn in the
    charts (the UI's default: the first 10); the runs table shows `columns` after the run's name
    (`name_width` pixels wide where given: the UI sizes only the columns it orders) and its start."""
    order = [RUN_NAME_COLUMN, CREATED_COLUMN, *columns]
    return {"searchFilter": search, "orderByKey": order_by, "orderByAsc": ascending,
            "startTime": "ALL", "lifecycleFilter": "Active", "modelVersionFilter": "All Runs", "datasetsFilter": [],
            "selectedColumns": columns, "columnOrder": order,
            "columnWidths": {RUN_NAME_COLUMN: name_width} if name_width else {}, "runsHiddenMode": "SHOW_ALL",
            "compareRunSections": [{"uuid": section, "name": section, "display": True, "isReordered": False}],
            "compareRunCharts": charts, "hideEmptyCharts": False}


def study_view(study: dict, project: str, metric_keys: list[str]) -> dict:
    """The state of a study's view: its live runs; the varied settings (and the seed, where several),
    its metric, best first; a parallel-coordinates plot of the settings against the metric, the
    metric against the first setting (a scatter where it is a number, else a bar per run), and each
    run's per-epoch test metric. `metric_keys`: every metric its runs have."""
    metric, params = study["metric"], study_params(study)
    shown = params + (["seed"] if len(study["seeds"]) > 1 else [])
    section = f"study: {study['name']}"
    first, values = params[0], next(iter(study["vary"].values()))
    versus = (_chart("SCATTER", "metric-vs-setting", section, xaxis={"key": first, "type": "PARAM"},
                     yaxis={"key": metric, "type": "METRIC"}, runsCountToCompare=100)
              if _numeric(values) else _chart("BAR", "metric", section, metricKey=metric))
    epoch_metric = task_named(study["task"]).epoch_test_metric
    charts = [_chart("PARALLEL", "settings-vs-metric", section, selectedParams=params, selectedMetrics=[metric],
                     showAllRuns=True),
              versus,
              _chart("LINE", "epochs", section, metricKey=epoch_metric, selectedMetricKeys=[epoch_metric],
                     xAxisKey="step", scaleType="linear")]
    ascending = task_named(study["task"]).better(metric) == "min"
    columns = [column("params", key) for key in shown] + [column("metrics", metric)]
    return _state(study_filter(project, study["name"]), column("metrics", metric), ascending, columns, section,
                  _charts(section, charts, metric_keys), STUDY_NAME_WIDTH)


def final_test_metrics(tasks: list[str]) -> list[str]:
    """Each task's final test metric (its first final metric), once each, in the tasks' order."""
    return list(dict.fromkeys(next(iter(task_named(task).metrics)) for task in tasks))


def default_view(project: str, tasks: list[str], metric_keys: list[str]) -> dict:
    """The state of the default runs' view: task, implementation, each task's final test metric and
    the training time as columns, by name; a bar per run of each of those metrics."""
    metrics = [*final_test_metrics(tasks), "train_seconds"]
    section = "default runs"
    charts = [_chart("BAR", f"bar-{index}", section, metricKey=metric) for index, metric in enumerate(metrics)]
    columns = [column("tags", "task"), column("params", "impl"), *(column("metrics", metric) for metric in metrics)]
    return _state(default_filter(project), RUN_NAME_KEY, True, columns, section, _charts(section, charts, metric_keys))


def primary_metric(tasks: list[str]) -> str:
    """The experiment's primary metric: the final test metric most of the default runs' tasks share."""
    return Counter(next(iter(task_named(task).metrics)) for task in tasks).most_common(1)[0][0]


def tag_value(name: str, state: dict, now_ms: int | None = None) -> str:
    """The experiment tag's value that holds a view named `name` (the UI shows it in its view menu)."""
    packed = COMPRESSED + base64.b64encode(zlib.compress(json.dumps(state, separators=(",", ":")).encode())).decode()
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    value = json.dumps({"name": name, "createdAt": now_ms, "updatedAt": now_ms, "state": packed},
                       separators=(",", ":"), ensure_ascii=False)
    if len(value) > MAX_VIEW_CHARS:
        raise ValueError(f"the saved view {name!r} is {len(value)} characters, over MLflow's {MAX_VIEW_CHARS}")
    return value


def read_tag_value(value: str) -> tuple[str, dict]:
    """(name, state) of a saved view's tag value: what the UI decodes."""
    envelope = json.loads(value)
    packed = envelope["state"]
    if packed.startswith(COMPRESSED):
        packed = zlib.decompress(base64.b64decode(packed[len(COMPRESSED):])).decode()
    return envelope["name"], json.loads(packed)


def save_view(client, experiment_id: str, view: str, name: str, state: dict) -> None:
    """Write view `view` through `client` (an MlflowClient: see _client)."""
    client.set_experiment_tag(experiment_id, VIEW_TAG_PREFIX + view, tag_value(name, state))


def _client(uri: str):
    from mlflow.tracking import MlflowClient  # here: the study report imports this module without MLflow

    return MlflowClient(tracking_uri=uri)


def save_default_view(uri: str, experiment_id: str, project: str, tasks: list[str], runs: list[dict]) -> str:
    """Write the default runs' view (`runs`: as nndl.tracking.readback reads them, with their
    metrics) and, unless someone chose one already, the experiment's primary metric. Returns the
    view's link, on the runs table."""
    client = _client(uri)
    metric_keys = sorted({key for run in runs for key in run["metrics"]})
    save_view(client, experiment_id, view_id(project), "default runs", default_view(project, tasks, metric_keys))
    if PRIMARY_METRIC_TAG not in client.get_experiment(experiment_id).tags:
        client.set_experiment_tag(experiment_id, PRIMARY_METRIC_TAG, primary_metric(tasks))
    return view_page(uri, experiment_id, view_id(project), TABLE)


def study_runs(client, experiment_id: str, project: str, study: str) -> list:
    """The live runs of `project`'s study `study`, every page of them."""
    found, token = [], None
    while True:
        page = client.search_runs([experiment_id], study_filter(project, study), max_results=PAGE, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def save_study_views(uri: str, summaries: list[dict], project: str) -> dict[str, str]:
    """Write each study's view (`summaries`: the studies' summary files' content), after giving its
    runs the data settings it varies as params, `data.<key>` (a run's data is its dataset, not params;
    but the view shows what varies as columns and axes, which only params can be). Returns {study:
    the link to its view}."""
    from mlflow.entities import Param

    client, links = _client(uri), {}
    for summary in summaries:
        study, experiment_id = summary["study"], summary["experiment_id"]
        runs = study_runs(client, experiment_id, project, study["name"])
        points = {run["key"]: run["point"] for run in summary["runs"]}
        for run in runs:
            point = points.get(run.data.tags.get(RUN_KEY_TAG), {})
            params = [Param(name, str(point[key])) for key, name in zip(study["vary"], study_params(study))
                      if name != key and key in point and name not in run.data.params]
            if params:
                client.log_batch(run.info.run_id, params=params)
        metric_keys = sorted({key for run in runs for key in run.data.metrics})
        view = view_id(project, study["name"])
        save_view(client, experiment_id, view, f"study: {study['name']}", study_view(study, project, metric_keys))
        links[study["name"]] = view_page(uri, experiment_id, view)
    return links
