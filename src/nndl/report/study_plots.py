"""A study's figures: its final metric against the varied setting, and its curves per grid point.

Every function takes plain data (lists and dicts read from the pipeline's JSON files, or arrays)
and returns a matplotlib Figure; `save` writes it. Nothing here trains, tracks or reads MLflow.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # batch jobs have no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullLocator  # noqa: E402

from nndl.report.plots import WRONG, epoch_axis  # noqa: E402
from nndl.tasks.registry import task_named  # noqa: E402
from nndl.values import all_numbers, format_value  # noqa: E402


def study_metric(study: dict, groups: list[dict], metric_label: str, marks: dict | None = None) -> Figure:
    """A study's final metric against its first varied setting: the mean over seeds with a band of
    one standard deviation, a line per implementation (and per value of any other varied
    setting); a red x at the top where runs diverged (no final metric); and the theory's `marks`
    (nndl.theory.verdict.Theory.marks: predicted thresholds, levels and lines)."""
    keys = list(study["vary"])
    x_key, values = keys[0], study["vary"][keys[0]]
    numeric = all_numbers(values)
    positions = {repr(value): (value if numeric else index) for index, value in enumerate(values)}
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    series: dict[str, list[dict]] = {}
    for group in groups:
        rest = ",".join(f"{key}={format_value(group['point'][key])}" for key in keys[1:])
        name = " ".join(part for part in (group["impl"] if len(study["impls"]) > 1 else "", rest) if part) or metric_label
        series.setdefault(name, []).append(group)
    diverged_label = "diverged (no final value)"
    for index, (name, members) in enumerate(series.items()):
        color = f"C{index % 10}"
        points = sorted((positions[repr(g["point"][x_key])], g["mean"], g["std"])
                        for g in members if not math.isnan(g["mean"]))
        if points:
            x, mean, std = (np.array(column, dtype=float) for column in zip(*points))
            axes.plot(x, mean, marker="o", color=color, label=name, **({"linestyle": "--"} if "concise" in name else {}))
            axes.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
        for group in members:
            if group["diverged"]:
                axes.plot(positions[repr(group["point"][x_key])], 0.97, marker="x", color=WRONG, markersize=10,
                          linestyle="none", transform=axes.get_xaxis_transform(), label=diverged_label)
                diverged_label = None  # one legend entry
    _draw_marks(axes, marks or {}, numeric)
    _scale_axes(axes, values, numeric, [g["mean"] for g in groups if not math.isnan(g["mean"])])
    seeds = max(g["seeds"] for g in groups)
    axes.set_xlabel(x_key)
    axes.set_ylabel(f"{metric_label} (mean ± 1 std over {seeds} seeds)" if seeds > 1 else metric_label)
    axes.set_title(f"Study {study['name']}", fontsize=11)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure


# The prediction's marks: black for the first of a kind, grey for the next (a threshold and a limit).
MARK_STYLES = [{"color": "black"}, {"color": "grey"}]


def _draw_marks(axes, marks: dict, numeric: bool) -> None:
    """The prediction: vertical lines at thresholds (the first black dotted, the next grey dashed),
    lines of predicted values (black dashed, then grey dotted), both on a numeric axis only (a named
    one has no place for them), and dash-dot levels."""
    for index, line in enumerate(marks.get("vlines", []) if numeric else []):
        axes.axvline(line["x"], linestyle=":" if index == 0 else "--", linewidth=1.2,
                     label=f"theory: {line['label']}", **MARK_STYLES[min(index, 1)])
    for index, line in enumerate(marks.get("lines", []) if numeric else []):
        axes.plot(line["x"], line["y"], linestyle="--" if index == 0 else ":", linewidth=1.2,
                  label=f"theory: {line['label']}", **MARK_STYLES[min(index, 1)])
    for index, line in enumerate(marks.get("hlines", [])):
        axes.axhline(line["y"], linestyle="-.", linewidth=1, label=f"theory: {line['label']}",
                     **MARK_STYLES[min(index, 1)])


def log_spaced(values: list) -> bool:
    """Whether a grid of numbers reads best on a log axis: all positive, and spanning decades (a
    ratio of 50 or more), or spread by a ratio of 4 or more in steps more even as ratios than as
    differences (0.03, 0.1, 0.3 and 16, 64, 256: yes; 10, 20, 30 and 1000, 1001, 1009: no)."""
    points = sorted(set(values))
    if len(points) < 2 or points[0] <= 0:
        return False
    if points[-1] / points[0] >= 50:
        return True
    if len(points) < 3 or points[-1] / points[0] < 4:
        return False

    def unevenness(steps: np.ndarray) -> float:  # spread of the steps relative to their mean
        return float(np.std(steps) / np.mean(steps))

    return unevenness(np.diff(np.log(points))) < unevenness(np.diff(points))


# Up to this many grid values are the ticks of a log axis themselves (0.03, 0.1, 0.3), not its decades.
TICKED = 8


def _scale_axes(axes, values: list, numeric: bool, finite: list[float]) -> None:
    """Log axes where the grid is log-spaced (its values as the ticks, when few); named ticks for a
    setting that is not a number."""
    if numeric:
        if log_spaced(values):
            axes.set_xscale("log")
            if len(set(values)) <= TICKED:
                axes.set_xticks(sorted(set(values)), [format_value(value) for value in sorted(set(values))])
                axes.xaxis.set_minor_locator(NullLocator())
    else:
        axes.set_xticks(range(len(values)), [format_value(v) for v in values])
    if finite and min(finite) > 0 and max(finite) / min(finite) >= 100:
        axes.set_yscale("log")


def study_curves(study: dict, groups: list[dict], test_label: str,
                 chosen: dict[str, list[str]] | None = None) -> Figure:
    """Per grid point, the mean training loss and test metric by epoch (band: one standard
    deviation over seeds); a column per implementation. Diverged runs are left out. With `chosen`
    ({point label: why}, nndl.report.study_points: a large grid), those points only, each labelled
    why it is shown: a legend entry per point of 1,500 made a figure 22,842 pixels tall."""
    impls = list(dict.fromkeys(group["impl"] for group in groups))
    figure, axes = plt.subplots(2, len(impls), figsize=(5.2 * len(impls), 6.4), squeeze=False, sharex="col")
    log_scale = task_named(study["task"]).log_scale
    for column, impl in enumerate(impls):
        members = [group for group in groups if group["impl"] == impl and (chosen is None or group["label"] in chosen)]
        for index, group in enumerate(members):
            color = f"C{index % 10}"
            label = group["label"] if chosen is None else f"{group['label']} ({', '.join(chosen[group['label']])})"
            for row, (curve, spread) in enumerate([(group["train_loss"], group["train_loss_std"]),
                                                   (group["test_metric"], group["test_metric_std"])]):
                if not curve:
                    continue
                epochs = np.arange(1, len(curve) + 1)
                mean, std = np.array(curve), np.array(spread)
                axes[row][column].plot(epochs, mean, color=color, label=label)
                axes[row][column].fill_between(epochs, mean - std, mean + std, color=color, alpha=0.15, linewidth=0)
        axes[0][column].set_title(f"{study['name']} ({impl})", fontsize=11)
        axes[0][column].set_ylabel("train loss")
        axes[1][column].set_ylabel(test_label)
        axes[1][column].set_xlabel("epoch")
        epoch_axis(axes[1][column])  # the column's top axes share it
        for row in range(2):
            axes[row][column].grid(alpha=0.3)
            if log_scale:
                axes[row][column].set_yscale("log")
        axes[0][column].legend(fontsize=7)
    return figure
