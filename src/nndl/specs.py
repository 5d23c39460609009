"""Run specs: one plain, JSON-able dict per run, resolved once from the config where the workflow is
parsed, and the chunks of runs that one job trains in one process.

A spec is everything a run depends on: task, implementation, seed, every hyperparameter, the data it
trains on, its gates, device and threads, and where its files go. The rule hands the specs of a chunk
to its job through `params`; the job logs each spec as its run's MLflow params and its hash as the
`config_hash` tag. Nothing below the workflow reads the whole config.
"""

from __future__ import annotations

import hashlib
import json

from nndl import layout


def resolve_runs(config: dict) -> list[dict]:
    """Every run of a validated config, in training order: task, then seed, then implementation."""
    specs = []
    for task in layout.TASKS:
        for seed in config["seeds"]:
            for impl in layout.IMPLS:
                specs.append(resolve_run(config, task, impl, seed))
    return specs


def resolve_run(config: dict, task: str, impl: str, seed: int) -> dict:
    if task == "linreg":
        data = {"path": layout.SYNTHETIC_DATA, **config["synthetic"]}
    else:
        fashion = config["data"]["fashion_mnist"]
        data = {"path": fashion["dir"], "generate": fashion["generate"]}
    return {
        "name": layout.run_name(task, impl, seed),
        "dir": layout.run_dir(task, impl, seed),
        "task": task,
        "impl": impl,
        "seed": seed,
        **config[task],  # batch_size, learning_rate, epochs, init_std
        "data": data,
        "gates": config["gates"][task],
        "n_predictions": config["evaluation"]["n_predictions"],
        "device": config["device"],
        "threads": config["train_threads"],
    }


def spec_hash(spec: dict) -> str:
    """A short hash of one run's spec: same spec, same hash (the `config_hash` tag)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def chunks_per_task(specs: list[dict], parallelism: int) -> dict[str, int]:
    """How many chunk jobs each task gets: the parallelism shared evenly between the tasks, at least
    one chunk per task and at most one per run. A chunk holds runs of one task only, so editing one
    task's hyperparameters reruns only that task's chunks."""
    tasks = [task for task in layout.TASKS if any(spec["task"] == task for spec in specs)]
    share = max(1, parallelism // max(1, len(tasks)))
    return {task: min(share, sum(spec["task"] == task for spec in specs)) for task in tasks}


def chunk_ids(specs: list[dict], parallelism: int) -> list[dict]:
    """[{'task': 'softmax', 'part': 0, 'parts': 2}, ...]: the wildcards of every chunk job."""
    return [{"task": task, "part": part, "parts": parts}
            for task, parts in chunks_per_task(specs, parallelism).items() for part in range(parts)]


def chunk_members(specs: list[dict], task: str, part: int, parts: int) -> list[dict]:
    """The runs of chunk `part` of `parts` for `task`: a contiguous slice of that task's runs, in
    seed order, so each seed's figures can start once the chunks holding its runs are done. The
    number of parts is in the chunk's name, so a job rebuilt elsewhere (a cluster node) gets the
    same runs."""
    runs = [spec for spec in specs if spec["task"] == task]
    members = runs[part * len(runs) // parts:(part + 1) * len(runs) // parts]
    if not members:
        raise ValueError(f"chunk {task}-{part}-of-{parts} holds no runs: the config has {len(runs)} {task} "
                         f"run(s); ask for the pipeline's own targets (snakemake -n lists them)")
    return members


def chunk_of_run(chunks: list[dict], specs: list[dict], name: str) -> dict:
    """The chunk wildcards that train the run called `name`."""
    for chunk in chunks:
        if any(spec["name"] == name for spec in chunk_members(specs, **chunk)):
            return chunk
    raise KeyError(f"no chunk trains {name!r}")
