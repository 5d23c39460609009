"""A study's answer: a sentence of a few clauses, every number computed from its summarised groups."""

from __future__ import annotations

import math
import statistics

from nndl.runs.grid import grid_size
from nndl.tasks.registry import task_named
from nndl.values import MANY, all_numbers, format_value

# Two grid points "match" when their mean metrics differ by less than this, relative.
MATCH_TOLERANCE = 1e-5
# Varied settings that draw another sample rather than change the method (synthetic: seed).
REPLICATES = {"seed"}
# How many grid points a clause names of a large grid (more than MANY points); the rest are counted.
LISTED = 5


def large_grid(study: dict) -> bool:
    """More grid points than a report lists (nndl.values.MANY): its report summarises them."""
    return grid_size(study) > MANY


def _listed(parts: list[str], large: bool, separator: str = "; ") -> str:
    """The parts joined; of a large grid's, the first LISTED and how many more."""
    if not large or len(parts) <= LISTED:
        return separator.join(parts)
    return separator.join(parts[:LISTED]) + f"{separator}and {len(parts) - LISTED:,} more"


def value_text(value: float, std: float | None = None) -> str:
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
    return _listed(parts, large_grid(study))


def _better(study: dict) -> str:
    return task_named(study["task"]).better(study["metric"])  # "min" or "max"


def _final_metric(epoch_metric: str) -> str:
    """'final/test_accuracy': the final metric of a per-epoch one, 'test/accuracy' (nndl.learn.evaluation
    names a run's final metrics so)."""
    return "final/" + epoch_metric.replace("/", "_")


def ranked(study: dict, groups: list[dict]) -> list[dict]:
    """The groups best first (by their mean metric)."""
    return sorted(groups, key=lambda g: g["mean"], reverse=_better(study) == "max")


def _best_and_worst(study: dict, finished: list[dict], seeds: int) -> list[str]:
    order = ranked(study, finished)
    best, worst = order[0], order[-1]
    low_high = ("highest", "lowest") if _better(study) == "max" else ("lowest", "highest")
    over = f" (mean ± std over {seeds} seeds)" if seeds > 1 else ""
    clauses = [f"the {low_high[0]} {study['metric']} was {value_text(best['mean'], best['std'])} at "
               f"{_where(best, study['impls'])}{over}"]
    if len(order) > 1 and worst["mean"] != best["mean"]:
        ratio = f", {worst['mean'] / best['mean']:.3g}x the best" if best["mean"] and _better(study) == "min" else ""
        clauses.append(f"the {low_high[1]} was {value_text(worst['mean'], worst['std'])} at "
                       f"{_where(worst, study['impls'])}{ratio}")
        if seeds > 1 and all(abs(g["mean"] - best["mean"]) <= g["std"] + best["std"] for g in order):
            clauses.append("every grid point is within one standard deviation of the best: no difference larger "
                           "than the spread between seeds")
    return clauses


def _best_per_first_setting(study: dict, finished: list[dict]) -> str | None:
    """With two or more varied settings: for each value of the first, the best of the rest (not
    when a rest is a fresh sample of the data, which the best would only pick by luck)."""
    keys = list(study["vary"])
    if len(keys) < 2 or REPLICATES & set(keys[1:]):
        return None
    by_value: dict[str, list[dict]] = {}  # one pass (a large grid has thousands of groups)
    for group in finished:
        by_value.setdefault(repr(group["point"][keys[0]]), []).append(group)
    parts = []
    for value in study["vary"][keys[0]]:
        members = by_value.get(repr(value), [])
        if members:
            best = ranked(study, members)[0]
            rest = ",".join(f"{key}={format_value(best['point'][key])}" for key in keys[1:])
            impl = f" ({best['impl']})" if len(study["impls"]) > 1 else ""
            parts.append(f"{keys[0]}={format_value(value)}: {rest}{impl} ({value_text(best['mean'], best['std'])})")
    return f"best {study['metric']} for each {keys[0]}: " + _listed(parts, large_grid(study))


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
    by_value: dict[float, list[float]] = {}  # one pass (a large grid has thousands of groups)
    for group in finished:
        by_value.setdefault(group["point"][key], []).append(group["mean"])
    means = {value: statistics.fmean(by_value[value]) for value in values if value in by_value}
    if len(means) < 3 or min(means.values()) <= 0:
        return None
    xs, ys = [math.log(x) for x in means], [math.log(y) for y in means.values()]
    slope = statistics.linear_regression(xs, ys).slope
    first, last = min(means), max(means)
    return (f"from {key}={format_value(first)} to {format_value(last)}, {study['metric']} went from "
            f"{value_text(means[first])} to {value_text(means[last])} (slope {slope:.2f} on log-log axes)")


def _same(a: dict, b: dict) -> bool:
    """Two groups gave the same value (within MATCH_TOLERANCE, relative) for every seed."""
    values_a = {run["seed"]: run["value"] for run in a["runs"]}
    values_b = {run["seed"]: run["value"] for run in b["runs"]}
    return values_a.keys() == values_b.keys() and all(
        values_a[seed] is not None and values_b[seed] is not None and abs(values_a[seed] - values_b[seed])
        <= MATCH_TOLERANCE * max(abs(values_a[seed]), abs(values_b[seed]), 1e-12) for seed in values_a)


def _any_pairs(finished: list[dict]) -> list[tuple[dict, dict]]:
    """Matching pairs of one implementation, whatever settings they differ in (every pair is compared:
    a small grid, at most MANY points). summed-loss's answer is such a pair: reduction and the
    learning rate changed together."""
    return [(a, b) for index, a in enumerate(finished) for b in finished[index + 1:]
            if a["impl"] == b["impl"] and a["label"] != b["label"] and _same(a, b)]


def _one_setting_pairs(study: dict, finished: list[dict]) -> list[tuple[dict, dict]]:
    """Matching pairs that differ in exactly one setting (the implementation counts as one), in a
    large grid: for each setting, the groups alike in every other one are sorted by their seeds'
    values and each is compared with the next (n log n, where every pair would be n squared)."""
    place = {id(group): index for index, group in enumerate(finished)}
    pairs = []
    for setting in [*study["vary"], "impl"]:
        alike: dict[tuple, list[dict]] = {}
        for group in finished:
            rest = tuple(format_value(value) for key, value in group["point"].items() if key != setting)
            alike.setdefault((rest, None if setting == "impl" else group["impl"]), []).append(group)
        for members in alike.values():
            members = sorted((group for group in members if all(run["value"] is not None for run in group["runs"])),
                             key=lambda group: sorted((run["seed"], run["value"]) for run in group["runs"]))
            pairs += [tuple(sorted((a, b), key=lambda group: place[id(group)]))
                      for a, b in zip(members, members[1:]) if _same(a, b)]
    return sorted(pairs, key=lambda pair: (place[id(pair[0])], place[id(pair[1])]))


def _matches(study: dict, finished: list[dict]) -> list[str]:
    """Grid points that gave the same value for every seed (at most three clauses)."""
    pairs = _one_setting_pairs(study, finished) if large_grid(study) else _any_pairs(finished)
    return [f"{_where(a, study['impls'])} matched {_where(b, study['impls'])} in every seed "
            f"({value_text(a['mean'])} vs {value_text(b['mean'])})" for a, b in pairs[:3]]


def _peak(study: dict, finished: list[dict]) -> str | None:
    """When the study varies epochs: is the per-epoch test metric best before the last epoch?"""
    if "epochs" not in study["vary"]:
        return None
    longest = max(finished, key=lambda g: len(g["test_metric"]))
    task = task_named(study["task"])
    curve, name = longest["test_metric"], task.epoch_test_metric
    best = max if task.better(_final_metric(name)) == "max" else min
    peak = curve.index(best(curve))  # the first epoch at the best
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
        clauses.append("finished but missed the gates: " + _listed([
            f"{_where(group, study['impls'])} ({group['missed_gates']} of {group['seeds']})" for group in missed],
            large_grid(study), ", "))
    if peak := _peak(study, finished):
        clauses.append(peak)
    return "; ".join(clauses) + "."
