"""Run specs: one plain, JSON-able dict per run, resolved once from the config where the workflow is
parsed, and the chunks of runs that one job trains in one process.

A spec is everything a run depends on: task, implementation, seed, every hyperparameter and
setting, the data it trains on, its gates, device and threads, and where its files go. The rule
hands the specs of a chunk to its job through `params`; the job logs each spec as its run's MLflow
params and its hash as the `config_hash` tag. Nothing below the workflow reads the whole config.

A study run is a default run with some settings changed (`studies:` in the config): its spec is
resolved the same way, with the study's settings applied, its own name and folder, and `study`
({name, point}) saying where it belongs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math

from nndl import layout

# The config blocks whose keys are a task's settings (what a study may vary). A setting of the
# `synthetic:` block goes to the spec's data, and makes a data set of its own.
SETTING_BLOCKS = {"linreg": ("linreg", "synthetic"), "softmax": ("softmax",)}
DATA_BLOCK = "synthetic"
# A chunk holds about this much estimated work (seconds on one core) when there are cores to spare:
# enough that a job's start-up (about 7 s: torch 2.4 s and MLflow 1.8 s of imports, Snakemake's
# script wrapper) stays near a tenth of it, small enough that the last jobs do not run alone long.
CHUNK_SECONDS = 60.0


def resolve_runs(config: dict) -> list[dict]:
    """Every run of a validated config, in training order: the default runs (task, then seed, then
    implementation), then each study's runs (grid point, then seed, then implementation)."""
    runs = [resolve_run(config, task, impl, seed) for task in layout.TASKS
            for seed in config["seeds"] for impl in layout.IMPLS]
    for study in config["studies"]:
        runs.extend(resolve_study(config, study))
    return runs


def resolve_run(config: dict, task: str, impl: str, seed: int, settings: dict | None = None) -> dict:
    """One run's spec: the task's block of the config with `settings` ({key: value}) applied."""
    hyperparameters = dict(config[task])
    data_settings = dict(config[DATA_BLOCK]) if task == "linreg" else {}
    for key, value in (settings or {}).items():
        (hyperparameters if key in hyperparameters else data_settings)[key] = value
    if task == "linreg":
        digest = data_digest(data_settings)
        data = {"digest": digest, "path": layout.SYNTHETIC_DATA.format(digest=digest),
                "description": layout.SYNTHETIC_DESCRIPTION.format(digest=digest), **data_settings}
    else:
        fashion = config["data"]["fashion_mnist"]
        data = {"path": fashion["dir"], "manifest": f"{fashion['dir']}/{layout.DATA_MANIFEST}",
                "generate": fashion["generate"]}
    return {
        "name": layout.run_name(task, impl, seed),
        "dir": layout.run_dir(task, impl, seed),
        "task": task,
        "impl": impl,
        "seed": seed,
        **hyperparameters,  # batch_size, learning_rate, epochs, init_std, init, reduction, shuffle, ...
        "data": data,
        "gates": config["gates"][task],
        "n_predictions": config["evaluation"]["n_predictions"],
        "device": config["device"],
        "threads": config["train_threads"],
    }


def data_digest(data_settings: dict) -> str:
    """A short hash of a synthetic data block: the name of its data files."""
    return hashlib.sha256(json.dumps(data_settings, sort_keys=True).encode()).hexdigest()[:10]


def synthetic_datasets(runs: list[dict]) -> dict[str, dict]:
    """{digest: synthetic block} of every synthetic data set the runs train on."""
    return {spec["data"]["digest"]: {key: value for key, value in spec["data"].items()
                                     if key not in ("digest", "path", "description")}
            for spec in runs if spec["task"] == "linreg"}


def all_numbers(values: list) -> bool:
    """True when every value is a number (a bool is not, though Python says it is an int)."""
    return all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)


def format_value(value) -> str:
    """A setting's value as the run names and the report show it: 0.1, 1e-05, true, 1/255."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def grid(study: dict) -> list[dict]:
    """The study's grid points, {setting: value}, in the order of `vary` (the last varies fastest)."""
    keys = list(study["vary"])
    return [dict(zip(keys, values)) for values in itertools.product(*(study["vary"][key] for key in keys))]


def point_label(point: dict) -> str:
    """'learning_rate=0.1,batch_size=64': one grid point, in run names and folders."""
    return ",".join(f"{key}={format_value(value)}" for key, value in point.items())


def resolve_study(config: dict, study: dict) -> list[dict]:
    """The runs of one study: every grid point x seed x implementation, each a full spec."""
    runs = []
    for point in grid(study):
        label = point_label(point)
        for seed in study["seeds"]:
            for impl in study["impls"]:
                spec = resolve_run(config, study["task"], impl, seed, {**study["set"], **point})
                spec["name"] = layout.study_run_name(study["name"], study["task"], impl, label, seed)
                spec["dir"] = layout.study_run_dir(study["name"], study["task"], impl, label, seed)
                spec["study"] = {"name": study["name"], "point": point}
                runs.append(spec)
    return runs


def study_definition(study: dict) -> dict:
    """What a study's parent run and report show of it (the runs carry the rest)."""
    return {key: study[key] for key in ("name", "question", "task", "impls", "vary", "set", "seeds")} | {
        "metric": study["metric"] or next(iter(layout.STUDY_METRICS[study["task"]]))}


def run_params(spec: dict) -> dict:
    """A spec's settings, what its MLflow params show: all but its name, folder and study (the run's
    name and tags say those), so the compare view's parallel coordinates show what varies."""
    return {key: value for key, value in spec.items() if key not in ("name", "dir", "study")}


def spec_hash(spec: dict) -> str:
    """A short hash of one run's spec: same spec, same hash (the `config_hash` tag)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def group_of(spec: dict) -> str:
    """The chunk group of a run: its task for the default runs, 'study-<name>' for a study's."""
    if "study" in spec:
        return layout.CHUNK_GROUP_STUDY.format(study=spec["study"]["name"])
    return spec["task"]


def estimated_seconds(spec: dict) -> float:
    """A rough cost of one run on one CPU core, for balancing chunks: steps and examples seen.
    Measured on a 2-core EPYC VM: about 0.5 ms per minibatch step, 10 us per Fashion-MNIST example
    (784 x 10 weights, forward and backward), next to nothing per 2-d synthetic example, and
    about 0.3 s per run for MLflow and files."""
    if spec["task"] == "linreg":
        examples, per_example = spec["data"]["n_train"], 2e-7
    else:
        generated = spec["data"]["generate"]
        examples, per_example = (generated["train"] if generated else 60_000), 1e-5
    steps = math.ceil(examples / spec["batch_size"])
    return 0.3 + spec["epochs"] * (steps * 5e-4 + examples * per_example)


def chunks_per_group(specs: list[dict], parallelism: int) -> dict[str, int]:
    """How many chunk jobs each group gets: one per CHUNK_SECONDS of estimated work, and for the
    default runs at least the parallelism shared evenly between the tasks; never more than the
    parallelism or the group's runs. A chunk holds one group's runs, so editing one task's
    hyperparameters or one study reruns only that group's chunks."""
    groups: dict[str, list[dict]] = {}
    for spec in specs:
        groups.setdefault(group_of(spec), []).append(spec)
    tasks = [group for group in groups if group in layout.TASKS]
    share = max(1, parallelism // max(1, len(tasks)))
    parts = {}
    for group, runs in groups.items():
        by_work = math.ceil(sum(estimated_seconds(spec) for spec in runs) / CHUNK_SECONDS)
        at_least = share if group in layout.TASKS else 1
        parts[group] = max(1, min(parallelism, len(runs), max(at_least, by_work)))
    return parts


def chunk_ids(specs: list[dict], parallelism: int) -> list[dict]:
    """[{'group': 'softmax', 'part': 0, 'parts': 2}, ...]: the wildcards of every chunk job."""
    return [{"group": group, "part": part, "parts": parts}
            for group, parts in chunks_per_group(specs, parallelism).items() for part in range(parts)]


def chunk_members(specs: list[dict], group: str, part: int, parts: int) -> list[dict]:
    """The runs of chunk `part` of `parts` of `group`. The default runs: a contiguous slice in seed
    order, so each seed's figures can start once the chunks holding its runs are done. A study's
    runs: shared by estimated cost, longest first to the least loaded chunk, in grid order within
    a chunk. The number of parts is in the chunk's name, so a job rebuilt elsewhere (a cluster
    node) gets the same runs."""
    runs = [spec for spec in specs if group_of(spec) == group]
    if group in layout.TASKS:
        members = runs[part * len(runs) // parts:(part + 1) * len(runs) // parts]
    else:
        loads, owner = [0.0] * parts, {}
        for index in sorted(range(len(runs)), key=lambda i: (-estimated_seconds(runs[i]), i)):
            lightest = loads.index(min(loads))
            owner[index] = lightest
            loads[lightest] += estimated_seconds(runs[index])
        members = [spec for index, spec in enumerate(runs) if owner[index] == part]
    if not members:
        raise ValueError(f"chunk {group}-{part}-of-{parts} holds no runs: the config has {len(runs)} run(s) "
                         f"in {group!r}; ask for the pipeline's own targets (snakemake -n lists them)")
    return members


def chunk_of_run(chunks: list[dict], specs: list[dict], name: str) -> dict:
    """The chunk wildcards that train the run called `name`."""
    for chunk in chunks:
        if any(spec["name"] == name for spec in chunk_members(specs, **chunk)):
            return chunk
    raise KeyError(f"no chunk trains {name!r}")
