"""Studies as grids: a study's grid points, its runs (default specs with the study's settings
applied), and what its parent run and report show of it."""

from __future__ import annotations

import itertools
import math

from dataclasses import replace

from nndl.runs import names
from nndl.tasks.runspec import RunSpec, StudyPoint
from nndl.runs.specs import resolve_run, training_key
from nndl.tasks.registry import task_named
from nndl.values import point_label


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


def resolve_study(config: dict, study: dict) -> list[RunSpec]:
    """The runs of one study: every grid point x seed x implementation, each a full spec."""
    runs = []
    for point in grid(study):
        label = point_label(point)
        for seed in study["seeds"]:
            for impl in study["impls"]:
                spec = resolve_run(config, study["task"], impl, seed, {**study["set"], **point})
                folder = names.study_run_dir(study["name"], study["task"], impl, label, seed, training_key(spec))
                runs.append(replace(spec, name=names.study_run_name(study["name"], study["task"], impl, label, seed),
                                    dir=folder, study=StudyPoint(study["name"], point)))
    return runs


def study_definition(study: dict) -> dict:
    """What a study's parent run and report show of it (the runs carry the rest)."""
    return {key: study[key] for key in ("name", "question", "task", "impls", "vary", "set", "seeds")} | {
        "metric": study["metric"] or next(iter(task_named(study["task"]).metrics))}


def study_runs(runs: list[RunSpec], study: str) -> list[RunSpec]:
    """The specs of one study's runs, in grid order."""
    return [spec for spec in runs if spec.study and spec.study.name == study]
