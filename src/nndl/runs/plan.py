"""Every run of a config, resolved once where the workflow is parsed: the default runs, then each
study's; and, before that, how many there are and about how long they train."""

from __future__ import annotations

import math
import random
import statistics
import sys
from typing import TextIO

from nndl.errors import ConfigError
from nndl.runs.chunks import estimated_seconds
from nndl.runs.grid import grid_point, grid_size, resolve_study
from nndl.tasks.runspec import RunSpec
from nndl.runs.specs import merged_settings, resolve_data, resolve_run
from nndl.tasks.registry import TASKS, task_named
from nndl.tasks.types import IMPLS

SAMPLED = 2000  # grid points costed one by one; a larger grid's cost is their mean times its size


def chosen_tasks(config: dict) -> list[str]:
    """The tasks a validated config trains (its `tasks:`), in the registry's order however listed."""
    return [task for task in TASKS if task in config["tasks"]]


def resolve_runs(config: dict) -> list[RunSpec]:
    """Every run of a validated config, in training order: the default runs (task, then seed, then
    implementation), then each study's runs (grid point, then seed, then implementation)."""
    runs = [resolve_run(config, task, impl, seed)
            for task in chosen_tasks(config) for seed in config["seeds"] for impl in IMPLS]
    for study in config["studies"]:
        runs.extend(resolve_study(config, study))
    return runs


def planned_size(config: dict) -> list[tuple[str, int, float]]:
    """[(what, runs, estimated seconds of training on one core)]: the default runs, then each study,
    counted from the lengths of its lists without resolving a spec (a grid of 100,000 runs takes
    seconds to resolve). A study of more than SAMPLED points is costed on a sample of them."""
    def cost(task: str, settings: dict | None = None) -> float:
        hyperparameters, data_settings = merged_settings(config, task, settings)
        examples = resolve_data(config, task, data_settings).train_examples()
        return estimated_seconds(task_named(task), hyperparameters["batch_size"], hyperparameters["epochs"], examples)

    per_seed = len(IMPLS) * len(config["seeds"])
    tasks = chosen_tasks(config)
    rows = [("default runs", len(tasks) * per_seed, sum(cost(task) for task in tasks) * per_seed)]
    for study in config["studies"]:
        per_point, points = len(study["impls"]) * len(study["seeds"]), grid_size(study)
        indices = range(points) if points <= SAMPLED else random.Random(0).sample(range(points), SAMPLED)
        mean = statistics.fmean(cost(study["task"], {**study["set"], **grid_point(study, i)}) for i in indices)
        rows.append((f"study {study['name']!r}", points * per_point, mean * points * per_point))
    return rows


def check_size(config: dict, log: TextIO = sys.stderr) -> int:
    """Say how many runs the config plans and about how long they train; stop (ConfigError) when
    that is more than the config's max_runs. Returns the number of runs."""
    rows = planned_size(config)
    total, seconds = sum(row[1] for row in rows), sum(row[2] for row in rows)
    lines = [f"nndl: the config plans {total:,} runs, about {duration(seconds)} of training on one core "
             "(an estimate; a complete run is not trained again):"]
    lines += [f"  {what}: {runs:,} runs, about {duration(cost)}" for what, runs, cost in rows]
    print("\n".join(lines), file=log, flush=True)
    cap = config["max_runs"]
    if total > cap:
        largest = max(rows, key=lambda row: row[1])
        raise ConfigError(
            f"the config plans {total:,} runs ({largest[0]}: {largest[1]:,}), about {duration(seconds)} of training "
            f"on one core and as many MLflow runs; max_runs is {cap:,}, a cap against a grid larger than meant. "
            f"Shrink the study's vary lists, seeds or impls, or raise the cap if you mean it: max_runs: {total} "
            f"in the config, or --config max_runs={total}. Nothing ran.")
    return total


def duration(seconds: float) -> str:
    """'40 s', '12 min', '3.4 h', '2.1 days': an estimate's size, not its digits."""
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= 2 * size:
            value = seconds / size
            return f"{value:.1f} {unit}" if value < 10 else f"{math.floor(value + 0.5):,} {unit}"
    return f"{math.ceil(seconds)} s"
