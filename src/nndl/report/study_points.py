"""What the report shows of a large study (more grid points than nndl.values.MANY): a few chosen
points (the best, the median, the worst, the edges of the grid, where divergence starts) in its
table and curves; every row goes to a CSV file beside its summary.

No matplotlib, no MLflow: plain data in, plain data out.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from nndl.files import write_text
from nndl.report.answers import ranked
from nndl.values import format_value


def chosen(study: dict, groups: list[dict]) -> dict[str, list[str]]:
    """{point label: why it is shown ('best', 'first', ...)}, in grid order: at most six points, a
    point chosen for several reasons once. `groups` are in grid order (nndl.report.studies.summarise)."""
    picks = [(groups[0]["label"], "first"), (groups[-1]["label"], "last")]
    finished = [group for group in groups if not math.isnan(group["mean"])]
    if finished:
        order = ranked(study, finished)
        picks += [(order[0]["label"], "best"), (order[len(order) // 2]["label"], "median"),
                  (order[-1]["label"], "worst")]
    diverging = next((group for group in groups if group["diverged"]), None)
    if diverging:
        picks.append((diverging["label"], "first to diverge"))
    why: dict[str, list[str]] = {}
    for label, reason in picks:
        if reason not in why.setdefault(label, []):
            why[label].append(reason)
    place = {group["label"]: index for index, group in reversed(list(enumerate(groups)))}  # the first
    return {label: why[label] for label in sorted(why, key=place.__getitem__)}


def shown_rows(headers: list[str], rows: list[list], groups: list[dict],
               points: dict[str, list[str]]) -> tuple[list[str], list[list]]:
    """The table's rows of the chosen points (`rows` are `groups`' rows), each with why it is shown."""
    return [*headers, "shown as"], [[*row, ", ".join(points[group["label"]])]
                                    for group, row in zip(groups, rows) if group["label"] in points]


def write_csv(study: dict, groups: list[dict], path: str | Path) -> None:
    """Every group's row (grid point and implementation), the metric's mean and standard deviation
    as plain numbers (empty where every seed diverged), for a spreadsheet or pandas."""
    keys = list(study["vary"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*keys, "impl", "seeds", "diverged", "missed gates", f"{study['metric']} mean",
                     f"{study['metric']} std", "first outcome"])
    for group in groups:
        numbers = ["" if math.isnan(group[name]) else repr(group[name]) for name in ("mean", "std")]
        writer.writerow([*(format_value(group["point"][key]) for key in keys), group["impl"], group["seeds"],
                         group["diverged"], group["missed_gates"], *numbers, group["first_outcome"] or "ok"])
    write_text(buffer.getvalue(), path)
