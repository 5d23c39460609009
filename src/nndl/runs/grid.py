"""Studies as grids: a study's grid points, its runs (default specs with the study's settings
applied), and what its parent run and report show of it."""

from __future__ import annotations

import itertools
import math

from nndl.runs import names
from nndl.runs.specs import resolve_run, training_key
from nndl.values import point_label

# The config blocks whose keys are a task's settings (what a study may vary). A setting of the
# `synthetic:` block goes to the spec's data, and makes a data set of its own.
SETTING_BLOCKS = {"linreg": ("linreg", "synthetic"), "softmax": ("softmax",)}
# What a study can compare, per task: metric -> which way is better. The first is the default.
STUDY_METRICS = {
    "linreg": {"final/test_mse": "min", "final/max_abs_w_error": "min", "final/abs_b_error": "min",
               "final/train_loss": "min", "final/test_loss": "min", "train_seconds": "min"},
    "softmax": {"final/test_accuracy": "max", "final/test_loss": "min", "final/train_loss": "min",
                "final/train_accuracy": "max", "train_seconds": "min"},
}
# The per-epoch test metric drawn beside the training loss, and checked for a peak before the end.
EPOCH_TEST_METRIC = {"linreg": "test/loss", "softmax": "test/accuracy"}


def grid(study: dict) -> list[dict]:
    """The study's grid points, {setting: value}, in the order of `vary` (the last varies fastest)."""
    keys = list(study["vary"])
    return [dict(zip(keys, values)) for values in itertools.product(*(study["vary"][key] for key in keys))]


def grid_size(study: dict) -> int:
    """How many points the grid has, without making them."""
    return math.prod(len(values) for values in study["vary"].values())


def grid_point(study: dict, index: int) -> dict:
    """The grid's point at `index` (the order of `grid`), without making the others."""
    point = {}
    for key in reversed(list(study["vary"])):  # the last key varies fastest
        index, position = divmod(index, len(study["vary"][key]))
        point[key] = study["vary"][key][position]
    return {key: point[key] for key in study["vary"]}


def resolve_study(config: dict, study: dict) -> list[dict]:
    """The runs of one study: every grid point x seed x implementation, each a full spec."""
    runs = []
    for point in grid(study):
        label = point_label(point)
        for seed in study["seeds"]:
            for impl in study["impls"]:
                spec = resolve_run(config, study["task"], impl, seed, {**study["set"], **point})
                spec["name"] = names.study_run_name(study["name"], study["task"], impl, label, seed)
                spec["dir"] = names.study_run_dir(study["name"], study["task"], impl, label, seed,
                                                  training_key(spec))
                spec["study"] = {"name": study["name"], "point": point}
                runs.append(spec)
    return runs


def study_definition(study: dict) -> dict:
    """What a study's parent run and report show of it (the runs carry the rest)."""
    return {key: study[key] for key in ("name", "question", "task", "impls", "vary", "set", "seeds")} | {
        "metric": study["metric"] or next(iter(STUDY_METRICS[study["task"]]))}


def study_runs(runs: list[dict], study: str) -> list[dict]:
    """The specs of one study's runs, in grid order."""
    return [spec for spec in runs if spec.get("study", {}).get("name") == study]
