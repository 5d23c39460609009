"""Which grid points of a study gave the same value: the tolerance that makes two values one, and
the pairs of grid points that matched in every seed (nndl.report.answers words them)."""

from __future__ import annotations

from nndl.values import format_value

# Two values are the same (a tie of two grid points' means, a match of two runs) when they differ by
# less than this, relative.
MATCH_TOLERANCE = 1e-5


def same_value(a: float, b: float) -> bool:
    """Equal within MATCH_TOLERANCE, relative: a tie, not a difference."""
    return abs(a - b) <= MATCH_TOLERANCE * max(abs(a), abs(b), 1e-12)


def same_runs(a: dict, b: dict) -> bool:
    """Two groups gave the same value (within MATCH_TOLERANCE, relative) for every seed."""
    values_a = {run["seed"]: run["value"] for run in a["runs"]}
    values_b = {run["seed"]: run["value"] for run in b["runs"]}
    return values_a.keys() == values_b.keys() and all(
        values_a[seed] is not None and values_b[seed] is not None and same_value(values_a[seed], values_b[seed])
        for seed in values_a)


def any_pairs(finished: list[dict]) -> list[tuple[dict, dict]]:
    """Matching pairs of one implementation, whatever settings they differ in (every pair is compared:
    a small grid, at most MANY points). summed-loss's answer is such a pair: reduction and the
    learning rate changed together."""
    return [(a, b) for index, a in enumerate(finished) for b in finished[index + 1:]
            if a["impl"] == b["impl"] and a["label"] != b["label"] and same_runs(a, b)]


def one_setting_pairs(study: dict, finished: list[dict]) -> list[tuple[dict, dict]]:
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
                      for a, b in zip(members, members[1:]) if same_runs(a, b)]
    return sorted(pairs, key=lambda pair: (place[id(pair[0])], place[id(pair[1])]))


def matching_pairs(study: dict, finished: list[dict], large: bool) -> list[tuple[dict, dict]]:
    """The pairs of grid points that gave the same value in every seed, in grid order: of a large
    grid (`large`), those that differ in one setting; of a small one, any."""
    return one_setting_pairs(study, finished) if large else any_pairs(finished)
