"""What a study found: its runs read back, grouped by grid point and implementation, summarised
over seeds (mean and standard deviation), with its table and figures (nndl.report.answers words
the answer).

Only JSON, arithmetic and matplotlib (nndl.report.study_plots draws the figures): the job that summarises a
study imports this without torch or MLflow.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

from nndl.data.naming import titled
from nndl.files import read_json
from nndl.report import catalog, plots, study_plots, study_points
from nndl.report.answers import answer, large_grid, value_text
from nndl.report.table_text import spread_text
from nndl.report.theory_text import description
from nndl.runs import outcome, outputs, record
from nndl.tasks.finals import final_value
from nndl.tasks.runspec import RunSpec
from nndl.tasks.registry import task_named
from nndl.theory.choose import theory
from nndl.tracking.times import trained_ms
from nndl.tracking.uri import runs_page, tracking_uri
from nndl.tracking.views import view_id, view_page
from nndl.values import format_value, point_label

def read_runs(study: dict, specs: list[RunSpec]) -> list[dict]:
    """Each run of the study (its spec) with its outcome, MLflow run, final metric and per-epoch curves."""
    test_metric = task_named(study["task"]).epoch_test_metric
    rows = []
    for spec in specs:
        folder = Path(spec.dir)
        found = record.read(folder)
        history, metrics = outputs.read_history(folder), outputs.read_metrics(folder)
        kind = found.outcome.kind if found.outcome else outcome.OK
        value = final_value(study["metric"], history, metrics) if kind != outcome.DIVERGED else None
        if value is not None and not math.isfinite(value):  # a final metric that blew up: no value either
            kind, value = outcome.DIVERGED, None
        rows.append({"name": spec.name, "dir": spec.dir, "impl": spec.impl, "seed": spec.seed,
                     "point": spec.study.point, "key": found.key, "spec": spec, "history": history,
                     "outcome": found.outcome.message if found.outcome else None, "kind": kind, "value": value,
                     "train_loss": [epoch["train/loss"] for epoch in history["epochs"]],
                     "test_metric": [epoch[test_metric] for epoch in history["epochs"]]})
    return rows


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value); nan for none."""
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _mean_curve(curves: list[list[float]]) -> tuple[list[float], list[float]]:
    """Per-epoch mean and standard deviation over runs that trained to the end."""
    if not curves:
        return [], []
    pairs = [_mean_std(list(values)) for values in zip(*curves)]
    return [mean for mean, _ in pairs], [std for _, std in pairs]


def summarise(study: dict, rows: list[dict]) -> dict:
    """The study's groups (one per grid point and implementation, in grid order), each with its
    seeds' outcomes, the metric's mean and standard deviation over the seeds that did not diverge,
    and mean curves; and the answer sentence."""
    groups: dict[tuple[str, str], dict] = {}
    for row in rows:
        label = point_label(row["point"])
        group = groups.setdefault((label, row["impl"]), {
            "point": row["point"], "label": label, "impl": row["impl"], "runs": []})
        group["runs"].append(row)
    for group in groups.values():
        runs = group["runs"]
        finished = [run for run in runs if run["kind"] != outcome.DIVERGED]
        group["mean"], group["std"] = _mean_std([run["value"] for run in finished])
        group["seeds"] = len(runs)
        group["diverged"] = sum(run["kind"] == outcome.DIVERGED for run in runs)
        group["missed_gates"] = sum(run["kind"] == outcome.MISSED_GATES for run in runs)
        group["first_outcome"] = next((run["outcome"] for run in runs if run["outcome"]), None)
        group["first_divergence"] = next((run["outcome"] for run in runs if run["kind"] == outcome.DIVERGED), None)
        complete = [run for run in finished if len(run["train_loss"]) == max(len(r["train_loss"]) for r in runs)]
        group["train_loss"], group["train_loss_std"] = _mean_curve([run["train_loss"] for run in complete])
        group["test_metric"], group["test_metric_std"] = _mean_curve([run["test_metric"] for run in complete])
    ordered = list(groups.values())
    return {"groups": ordered, "answer": answer(study, ordered)}


def table(study: dict, groups: list[dict]) -> tuple[list[str], list[list]]:
    """(headers, rows): one row per grid point and implementation."""
    keys = list(study["vary"])
    headers = [*keys, "impl", "seeds", "diverged", "missed gates", f"{study['metric']} (mean ± std)", "first outcome"]
    rows = []
    for group in groups:
        value = "-" if math.isnan(group["mean"]) else spread_text(group["mean"], group["std"] if group["seeds"] > 1 else None)
        rows.append([*(format_value(group["point"][key]) for key in keys), group["impl"], group["seeds"],
                     group["diverged"], group["missed_gates"], value, group["first_outcome"] or "ok"])
    return headers, rows


def last_end_ms(rows: list[dict]) -> int | None:
    """When the study's last run ended (ms since the epoch): the end of its parent run."""
    return max((end for row in rows if (end := trained_ms(row["history"])[1])), default=None)


def recorded_parent(study: str, chunk_manifests: list[str | Path]) -> dict:
    """{'run_id', 'experiment_id'} of the study's MLflow parent run, as its chunk jobs found it."""
    chunk = read_json(chunk_manifests[0])
    return {"run_id": chunk["study_parents"][study], "experiment_id": chunk["experiment_id"]}


# kind -> how a study figure of that kind is drawn from the study's groups (`chosen`: the points a
# large grid shows, nndl.report.study_points; None: every point)
DRAW = {
    "study_metric": lambda study, groups, marks, chosen: study_plots.study_metric(study, groups, study["metric"],
                                                                                 marks),
    "study_curves": lambda study, groups, marks, chosen: study_plots.study_curves(
        study, groups, task_named(study["task"]).epoch_test_metric, chosen),
}


def table_block(study: dict, groups: list[dict], chosen: dict[str, list[str]] | None, csv_path: str | Path) -> dict:
    """The report's table: every row, or a large grid's chosen points' rows; how many rows there are
    in all; the CSV file with all of them, written to `csv_path` (names.STUDY_TABLE, beside the summary)."""
    headers, rows = table(study, groups)
    study_points.write_csv(study, groups, csv_path)
    shown = (headers, rows) if chosen is None else study_points.shown_rows(headers, rows, groups, chosen)
    return {"headers": shown[0], "rows": shown[1], "count": len(rows), "csv": str(csv_path)}


def summarise_study(study: dict, specs: list[RunSpec], parent: dict, formats: list[str], csv_path: str | Path,
                    project: str) -> dict:
    """Read a study's runs (their specs) back, summarise them over seeds, draw its figures, write its
    whole table to `csv_path`; return its summary: the study, its title (its task on the data its runs
    trained on), its MLflow parent run and the link to its saved view (`project`'s), the answer, the table, each run's outcome and value, the figure files."""
    started = time.perf_counter()
    plots.use_fonts("en")
    rows = read_runs(study, specs)
    summary = summarise(study, rows)
    block = theory(study, rows).to_json()
    chosen = study_points.chosen(study, summary["groups"]) if large_grid(study) else None
    files = {}
    for figure in catalog.STUDY_FIGURES:
        drawn = DRAW[figure.kind](study, summary["groups"], block["marks"], chosen)
        files[figure.stem] = [str(path) for path in plots.save(drawn, catalog.study_stem(figure, study["name"]), formats)]
    return {"study": study, "title": titled(task_named(study["task"]).heading, specs[0].data),  # names the data it used
            "parent_run_id": parent["run_id"], "experiment_id": parent["experiment_id"],
            "parent_page": f"{runs_page(tracking_uri(), parent['experiment_id'])}/{parent['run_id']}",
            # the study's saved view, which log_studies writes (nndl.tracking.views)
            "view_page": view_page(tracking_uri(), parent["experiment_id"], view_id(project, study["name"])),
            "answer": summary["answer"], "theory": block,
            "description": description(study, summary["answer"], block),
            "table": table_block(study, summary["groups"], chosen, csv_path),
            # No final value (every seed diverged) is null, not NaN: the file stays valid JSON.
            "groups": [{key: None if isinstance(value, float) and math.isnan(value) else value
                        for key, value in group.items() if key != "runs"} for group in summary["groups"]],
            "runs": [{key: row[key] for key in ("name", "key", "impl", "seed", "point", "outcome", "kind", "value")}
                     for row in rows],
            "figures": files, "last_end_ms": last_end_ms(rows), "seconds": time.perf_counter() - started}
