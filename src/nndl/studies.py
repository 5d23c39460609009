"""What a study found: its runs read back, grouped by grid point and implementation, summarised
over seeds (mean and standard deviation), and an answer sentence computed from those numbers.

Only JSON, arithmetic and matplotlib (nndl.plots draws the figures): the job that summarises a
study imports this without torch or MLflow.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

from nndl import layout, plots
from nndl.files import read_json
from nndl.specs import all_numbers, format_value, point_label

# A run's outcome, as the study counts it: ok, diverged (no final metric), or missed its gates (a
# final metric all the same).
OK, DIVERGED, MISSED_GATES = "ok", "diverged", "missed gates"
# Two grid points "match" when their mean metrics differ by less than this, relative.
MATCH_TOLERANCE = 1e-5
# Varied settings that draw another sample rather than change the method (synthetic: seed).
REPLICATES = {"seed"}
# Final metrics of softmax runs that only the last epoch's record holds.
FROM_LAST_EPOCH = {"final/train_loss": "train/loss", "final/train_accuracy": "train/accuracy"}
# The per-epoch test metric drawn beside the training loss, and checked for a peak before the end.
EPOCH_TEST_METRIC = {"linreg": "test/loss", "softmax": "test/accuracy"}


def outcome_kind(outcome: str | None) -> str:
    if outcome is None:
        return OK
    return DIVERGED if outcome.startswith("diverged") else MISSED_GATES


def metric_value(metric: str, history: dict, metrics: dict) -> float:
    """A run's final value of a study metric (nndl.layout.STUDY_METRICS names them)."""
    if metric == "train_seconds":
        return history["seconds"]["train"]
    if metric in metrics["summary"]:
        return metrics["summary"][metric]
    return history["epochs"][-1][FROM_LAST_EPOCH[metric]]


def read_runs(study: dict, runs: list[dict]) -> list[dict]:
    """Each run of the study ({'name', 'dir', 'impl', 'seed', 'point'}) with its outcome, MLflow
    run, final metric and per-epoch curves."""
    rows = []
    for run in runs:
        folder = Path(run["dir"])
        marker = read_json(folder / layout.COMPLETE)
        history, metrics = read_json(folder / layout.HISTORY), read_json(folder / layout.METRICS)
        kind = outcome_kind(marker.get("outcome"))
        value = metric_value(study["metric"], history, metrics) if kind != DIVERGED else None
        if value is not None and not math.isfinite(value):  # a final metric that blew up: no value either
            kind, value = DIVERGED, None
        rows.append({**run, "run_id": marker["run_id"], "outcome": marker.get("outcome"), "kind": kind, "value": value,
                     "train_loss": [epoch["train/loss"] for epoch in history["epochs"]],
                     "test_metric": [epoch[EPOCH_TEST_METRIC[study["task"]]] for epoch in history["epochs"]]})
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
        finished = [run for run in runs if run["kind"] != DIVERGED]
        group["mean"], group["std"] = _mean_std([run["value"] for run in finished])
        group["seeds"] = len(runs)
        group["diverged"] = sum(run["kind"] == DIVERGED for run in runs)
        group["missed_gates"] = sum(run["kind"] == MISSED_GATES for run in runs)
        group["first_outcome"] = next((run["outcome"] for run in runs if run["outcome"]), None)
        group["first_divergence"] = next((run["outcome"] for run in runs if run["kind"] == DIVERGED), None)
        complete = [run for run in finished if len(run["train_loss"]) == max(len(r["train_loss"]) for r in runs)]
        group["train_loss"], group["train_loss_std"] = _mean_curve([run["train_loss"] for run in complete])
        group["test_metric"], group["test_metric_std"] = _mean_curve([run["test_metric"] for run in complete])
    ordered = list(groups.values())
    return {"groups": ordered, "answer": answer(study, ordered)}


def _value(value: float, std: float | None = None) -> str:
    text = f"{value:.4g}"
    return text + (f" ± {std:.2g}" if std else "")


def _where(group: dict, impls: list[str]) -> str:
    return group["label"] + (f" ({group['impl']})" if len(impls) > 1 else "")


def _divergence_sentence(study: dict, groups: list[dict]) -> str | None:
    """'learning_rate >= 1 diverged in 6 of 6 runs (...)', or each diverging point in turn."""
    diverging = [group for group in groups if group["diverged"]]
    if not diverging:
        return None
    keys = list(study["vary"])
    values = study["vary"][keys[0]]
    numeric = len(keys) == 1 and all_numbers(values)
    if numeric:
        # Is divergence exactly the values from some threshold up, in every run there?
        by_value = {}
        for group in groups:
            by_value.setdefault(group["point"][keys[0]], []).append(group)
        ordered = sorted(by_value)
        always = [value for value in ordered if all(g["diverged"] == g["seeds"] for g in by_value[value])]
        never = [value for value in ordered if not any(g["diverged"] for g in by_value[value])]
        if always and len(always) + len(never) == len(ordered) and always == ordered[len(never):]:
            runs = sum(g["seeds"] for value in always for g in by_value[value])
            return (f"{keys[0]} >= {format_value(always[0])} diverged in {runs} of {runs} runs "
                    f"(first: {by_value[always[0]][0]['first_divergence']})")
    parts = [f"{_where(group, study['impls'])} diverged in {group['diverged']} of {group['seeds']} seeds "
             f"({group['first_divergence']})" for group in diverging]
    return "; ".join(parts)


def _better(study: dict) -> str:
    return layout.STUDY_METRICS[study["task"]][study["metric"]]  # "min" or "max"


def _ranked(study: dict, groups: list[dict]) -> list[dict]:
    return sorted(groups, key=lambda g: g["mean"], reverse=_better(study) == "max")


def _best_and_worst(study: dict, finished: list[dict], seeds: int) -> list[str]:
    ranked = _ranked(study, finished)
    best, worst = ranked[0], ranked[-1]
    low_high = ("highest", "lowest") if _better(study) == "max" else ("lowest", "highest")
    over = f" (mean ± std over {seeds} seeds)" if seeds > 1 else ""
    clauses = [f"the {low_high[0]} {study['metric']} was {_value(best['mean'], best['std'])} at "
               f"{_where(best, study['impls'])}{over}"]
    if len(ranked) > 1 and worst["mean"] != best["mean"]:
        ratio = f", {worst['mean'] / best['mean']:.3g}x the best" if best["mean"] and _better(study) == "min" else ""
        clauses.append(f"the {low_high[1]} was {_value(worst['mean'], worst['std'])} at "
                       f"{_where(worst, study['impls'])}{ratio}")
        if seeds > 1 and all(abs(g["mean"] - best["mean"]) <= g["std"] + best["std"] for g in ranked):
            clauses.append("every grid point is within one standard deviation of the best: no difference larger "
                           "than the spread between seeds")
    return clauses


def _best_per_first_setting(study: dict, finished: list[dict]) -> str | None:
    """With two or more varied settings: for each value of the first, the best of the rest (not
    when a rest is a fresh sample of the data, which the best would only pick by luck)."""
    keys = list(study["vary"])
    if len(keys) < 2 or REPLICATES & set(keys[1:]):
        return None
    parts = []
    for value in study["vary"][keys[0]]:
        members = [g for g in finished if g["point"][keys[0]] == value]
        if members:
            best = _ranked(study, members)[0]
            rest = ",".join(f"{key}={format_value(best['point'][key])}" for key in keys[1:])
            impl = f" ({best['impl']})" if len(study["impls"]) > 1 else ""
            parts.append(f"{keys[0]}={format_value(value)}: {rest}{impl} ({_value(best['mean'], best['std'])})")
    return f"best {study['metric']} for each {keys[0]}: " + "; ".join(parts)


def _trend(study: dict, finished: list[dict]) -> str | None:
    """For a numeric first setting over two decades or more: the metric at both ends (mean over the
    other settings) and its slope on log-log axes (-0.5: it falls like 1 / sqrt(x))."""
    key = next(iter(study["vary"]))
    values = study["vary"][key]
    if not all_numbers(values) or min(values) <= 0:
        return None
    values = sorted(values)
    if len(values) < 3 or values[-1] / values[0] < 100:
        return None
    means = {value: statistics.fmean([g["mean"] for g in finished if g["point"][key] == value])
             for value in values if any(g["point"][key] == value for g in finished)}
    if len(means) < 3 or min(means.values()) <= 0:
        return None
    xs, ys = [math.log(x) for x in means], [math.log(y) for y in means.values()]
    x_mean, y_mean = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys)) / sum((x - x_mean) ** 2 for x in xs)
    first, last = min(means), max(means)
    return (f"from {key}={format_value(first)} to {format_value(last)}, {study['metric']} went from "
            f"{_value(means[first])} to {_value(means[last])} (slope {slope:.2f} on log-log axes)")


def _matches(study: dict, finished: list[dict]) -> list[str]:
    """Grid points of one implementation that gave the same value for every seed."""
    def same(a: dict, b: dict) -> bool:
        values_a = {run["seed"]: run["value"] for run in a["runs"]}
        values_b = {run["seed"]: run["value"] for run in b["runs"]}
        return values_a.keys() == values_b.keys() and all(
            values_a[seed] is not None and values_b[seed] is not None and abs(values_a[seed] - values_b[seed])
            <= MATCH_TOLERANCE * max(abs(values_a[seed]), abs(values_b[seed]), 1e-12) for seed in values_a)

    return [f"{_where(a, study['impls'])} matched {_where(b, study['impls'])} in every seed "
            f"({_value(a['mean'])} vs {_value(b['mean'])})"
            for index, a in enumerate(finished) for b in finished[index + 1:]
            if a["impl"] == b["impl"] and a["label"] != b["label"] and same(a, b)][:3]


def _peak(study: dict, finished: list[dict]) -> str | None:
    """When the study varies epochs: is the per-epoch test metric best before the last epoch?"""
    if "epochs" not in study["vary"]:
        return None
    longest = max(finished, key=lambda g: len(g["test_metric"]))
    curve, name = longest["test_metric"], EPOCH_TEST_METRIC[study["task"]]
    peak = curve.index((max if study["task"] == "softmax" else min)(curve))  # the first epoch at the best
    if peak == len(curve) - 1:
        return f"at {_where(longest, study['impls'])}, mean {name} was still improving at epoch {len(curve)} ({curve[-1]:.4g})"
    return (f"at {_where(longest, study['impls'])}, mean {name} was best at epoch {peak + 1} ({curve[peak]:.4g}) "
            f"and {curve[-1]:.4g} at epoch {len(curve)}")


def answer(study: dict, groups: list[dict]) -> str:
    """The study's answer in a few clauses, every number from the runs: where runs diverged; the
    best and worst grid points (and whether they differ by more than the seeds do); the best of
    the other settings for each value of the first; the trend over a numeric setting; grid points
    that gave the same result; runs that missed the gates; a peak before the last epoch."""
    clauses = [clause for clause in [_divergence_sentence(study, groups)] if clause]
    finished = [group for group in groups if not math.isnan(group["mean"])]
    if not finished:
        return "; ".join(clauses + ["no run finished without diverging"]) + "."
    clauses += _best_and_worst(study, finished, max(group["seeds"] for group in groups))
    clauses += [clause for clause in (_best_per_first_setting(study, finished), _trend(study, finished)) if clause]
    clauses += _matches(study, finished)
    missed = [group for group in groups if group["missed_gates"]]
    if missed:
        clauses.append("finished but missed the gates: " + ", ".join(
            f"{_where(group, study['impls'])} ({group['missed_gates']} of {group['seeds']})" for group in missed))
    if peak := _peak(study, finished):
        clauses.append(peak)
    return "; ".join(clauses) + "."


def table(study: dict, groups: list[dict]) -> tuple[list[str], list[list]]:
    """(headers, rows): one row per grid point and implementation."""
    keys = list(study["vary"])
    headers = [*keys, "impl", "seeds", "diverged", "missed gates", f"{study['metric']} (mean ± std)", "first outcome"]
    rows = []
    for group in groups:
        value = "-" if math.isnan(group["mean"]) else _value(group["mean"], group["std"] or None)
        rows.append([*(format_value(group["point"][key]) for key in keys), group["impl"], group["seeds"],
                     group["diverged"], group["missed_gates"], value, group["first_outcome"] or "ok"])
    return headers, rows


def study_parent(study: str, chunk_manifests: list[str | Path]) -> dict:
    """{'run_id', 'experiment_id'} of the study's MLflow parent run, as its chunk jobs found it."""
    chunk = read_json(chunk_manifests[0])
    return {"run_id": chunk["study_parents"][study], "experiment_id": chunk["experiment_id"]}


def summarise_study(study: dict, runs: list[dict], parent: dict, formats: list[str]) -> dict:
    """Read a study's runs back, summarise them over seeds, draw its figures; return its summary:
    the study, its MLflow parent run, the answer, the table, each run's outcome and value, the
    figure files. `runs` are the study's runs as [{'name', 'dir', 'impl', 'seed', 'point'}]."""
    started = time.perf_counter()
    plots.use_fonts("en")
    rows = read_runs(study, runs)
    summary = summarise(study, rows)
    test_label = EPOCH_TEST_METRIC[study["task"]]
    drawn = {"metric": plots.study_metric(study, summary["groups"], study["metric"]),
             "curves": plots.study_curves(study, summary["groups"], test_label)}
    files = {name: [str(path) for path in plots.save(drawn[name], layout.study_figure(study["name"], name), formats)]
             for name in layout.STUDY_FIGURES}
    headers, table_rows = table(study, summary["groups"])
    return {"study": study, "parent_run_id": parent["run_id"], "experiment_id": parent["experiment_id"],
            "answer": summary["answer"], "table": {"headers": headers, "rows": table_rows},
            # No final value (every seed diverged) is null, not NaN: the file stays valid JSON.
            "groups": [{key: None if isinstance(value, float) and math.isnan(value) else value
                        for key, value in group.items() if key != "runs"} for group in summary["groups"]],
            "runs": [{key: row[key] for key in ("name", "run_id", "impl", "seed", "point", "outcome", "value")}
                     for row in rows],
            "figures": files, "seconds": time.perf_counter() - started}
