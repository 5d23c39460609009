"""A study's answer: a sentence of a few clauses, every number computed from its summarised groups."""

from __future__ import annotations

import math
import statistics

from nndl.report.matches import matching_pairs, same_runs, same_value
from nndl.runs.grid import grid_size
from nndl.tasks.registry import task_named
from nndl.values import MANY, all_numbers, format_value

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


def value_text(value: float, std: float | None = None, digits: int = 4) -> str:
    text = f"{value:.{digits}g}"
    return text + (f" ± {std:.2g}" if std else "")


def digits_to_tell(a: float, b: float, least: int = 4) -> int:
    """The significant digits (at least `least`) that print two values that are not a tie as two
    texts: 0.8476833 and 0.8476667 are one example of 60,000 apart, both '0.8477' at 4 digits."""
    digits = least
    while digits < 17 and f"{a:.{digits}g}" == f"{b:.{digits}g}":
        digits += 1
    return digits


def _where(group: dict, impls: list[str]) -> str:
    return group["label"] + (f" ({group['impl']})" if len(impls) > 1 else "")


def _names(parts: list[str], large: bool) -> str:
    """'a, b and c' (of a large grid's, the first LISTED and how many more)."""
    if large and len(parts) > LISTED:
        return ", ".join(parts[:LISTED]) + f" and {len(parts) - LISTED:,} more"
    return " and ".join(filter(None, [", ".join(parts[:-1]), parts[-1]]))


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


def ties(study: dict, finished: list[dict]) -> list[list[dict]]:
    """The groups tied at the best mean, and those tied at the worst (each list best first): one
    list when the best and the worst are a tie. A tie is within a relative tolerance, which does not
    chain (a ~ b and b ~ c, yet not a ~ c): a group is at the best end or at the worst, never both."""
    order = ranked(study, finished)
    if same_value(order[0]["mean"], order[-1]["mean"]):
        return [order]
    best = [group for group in order if same_value(group["mean"], order[0]["mean"])]
    worst = [group for group in order[len(best):] if same_value(group["mean"], order[-1]["mean"])]
    return [best, worst]


def _in_every_seed(groups: list[dict], seeds: int) -> bool:
    """Tied groups whose every seed gave the same value too (said so: more than a tie of means)."""
    return seeds > 1 and all(same_runs(groups[0], group) for group in groups[1:])


def _best_and_worst(study: dict, finished: list[dict], tied: list[list[dict]], seeds: int) -> list[str]:
    """The best and the worst grid points, or the tie of them all: points tied at either end are
    named together, never one picked among equals. `tied`: ties(study, finished)."""
    metric, large = study["metric"], large_grid(study)
    names = [_names([_where(group, study["impls"]) for group in groups], large) for groups in tied]
    best, worst = tied[0][0], tied[-1][0]
    if len(finished) == 1:
        over = f" (mean ± std over {seeds} seeds)" if seeds > 1 else ""
        return [f"the {metric} was {value_text(best['mean'], best['std'])} at {names[0]}{over}"]
    if len(tied) == 1:  # every group gave the same value
        means = f" (mean over {seeds} seeds)" if seeds > 1 else ""
        count = "both" if len(finished) == 2 else f"all {len(finished):,}"
        if _in_every_seed(finished, seeds):
            return [f"{count} grid points gave {metric} {value_text(best['mean'])} in every seed: {names[0]}"]
        return [f"{count} grid points tied at {metric} {value_text(best['mean'])}{means}: {names[0]}"]

    digits = digits_to_tell(best["mean"], worst["mean"])  # not a tie: never printed alike

    def at(groups: list[dict], name: str) -> str:
        if len(groups) == 1:
            return f"{value_text(groups[0]['mean'], groups[0]['std'], digits)} at {name}"
        tie = "the same in every seed" if _in_every_seed(groups, seeds) else "tied"
        return f"{value_text(groups[0]['mean'], digits=digits)}, {tie} at {name}"

    low_high = ("highest", "lowest") if _better(study) == "max" else ("lowest", "highest")
    over = f" (mean{'' if len(tied[0]) > 1 else ' ± std'} over {seeds} seeds)" if seeds > 1 else ""
    ratio = f", {worst['mean'] / best['mean']:.3g}x the best" if best["mean"] and _better(study) == "min" else ""
    clauses = [f"the {low_high[0]} {metric} was {at(tied[0], names[0])}{over}",
               f"the {low_high[1]} was {at(tied[1], names[1])}{ratio}"]
    if seeds > 1 and all(abs(g["mean"] - best["mean"]) <= g["std"] + best["std"] for g in finished):
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

    def rest(group: dict) -> str:
        impl = f" ({group['impl']})" if len(study["impls"]) > 1 else ""
        return ",".join(f"{key}={format_value(group['point'][key])}" for key in keys[1:]) + impl

    parts = []
    for value in study["vary"][keys[0]]:
        if members := by_value.get(repr(value), []):
            [best, *_] = tied = ties(study, members)[0]  # the rest tied at the best are named with it
            said = (f"{_names([rest(group) for group in tied], True)} ({value_text(best['mean'])}, tied)"
                    if len(tied) > 1 else f"{rest(best)} ({value_text(best['mean'], best['std'])})")
            parts.append(f"{keys[0]}={format_value(value)}: {said}")
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


def _matches(study: dict, finished: list[dict], tied: list[list[dict]]) -> list[str]:
    """Grid points that gave the same value for every seed (at most three clauses), but for two
    already said to tie (`tied`: ties(study, finished)): the same value is said once; and for one
    at the best end and one at the worst, already said to differ (a tie does not chain)."""
    said = {id(group) for groups in tied for group in groups}  # a pair of these: tied, or said to differ
    pairs = [(a, b) for a, b in matching_pairs(study, finished, large_grid(study)) if not {id(a), id(b)} <= said]
    return [f"{_where(a, study['impls'])} matched {_where(b, study['impls'])} in every seed "
            f"(both {value_text(a['mean'])}{'' if len(a['runs']) == 1 else ' on average'})" for a, b in pairs[:3]]


def _peak(study: dict, finished: list[dict]) -> str | None:
    """When the study varies epochs: is the per-epoch test metric best before the last epoch?"""
    if "epochs" not in study["vary"]:
        return None
    longest = max(finished, key=lambda g: len(g["test_metric"]))
    task = task_named(study["task"])
    curve, name = longest["test_metric"], task.epoch_test_metric
    best = max if task.better(_final_metric(name)) == "max" else min
    peak = curve.index(best(curve))  # the first epoch at the best
    where, last = _where(longest, study["impls"]), len(curve)
    if peak == last - 1:
        return f"at {where}, mean {name} was still improving at epoch {last} ({curve[-1]:.4g})"
    at_best = f"at {where}, mean {name} reached its best, {curve[peak]:.4g}, at epoch {peak + 1}"
    if all(same_value(value, curve[peak]) for value in curve[peak:]):  # a plateau, not a peak
        return f"{at_best} and kept it to epoch {last}"
    if same_value(curve[-1], curve[peak]):
        return f"{at_best} and was back at it at epoch {last}"
    return f"at {where}, mean {name} was best at epoch {peak + 1} ({curve[peak]:.4g}) and {curve[-1]:.4g} at epoch {last}"


def answer(study: dict, groups: list[dict]) -> str:
    """The study's answer in a few clauses, every number from the runs: where runs diverged; the
    best and worst grid points (and whether they differ by more than the seeds do), or that they
    all tied; the best of the other settings for each value of the first; the trend over a numeric
    setting; grid points that gave the same result; runs that missed the gates; a peak before the
    last epoch. Grid points tied at a value are named together: a tie is never a best."""
    clauses = [clause for clause in [_divergence_sentence(study, groups)] if clause]
    finished = [group for group in groups if not math.isnan(group["mean"])]
    if not finished:
        return "; ".join(clauses + ["no run finished without diverging"]) + "."
    tied = ties(study, finished)
    clauses += _best_and_worst(study, finished, tied, max(group["seeds"] for group in groups))
    clauses += [clause for clause in (_best_per_first_setting(study, finished), _trend(study, finished)) if clause]
    clauses += _matches(study, finished, tied)
    missed = [group for group in groups if group["missed_gates"]]
    if missed:
        clauses.append("finished but missed the gates: " + _listed([
            f"{_where(group, study['impls'])} ({group['missed_gates']} of {group['seeds']})" for group in missed],
            large_grid(study), ", "))
    if peak := _peak(study, finished):
        clauses.append(peak)
    return "; ".join(clauses) + "."
