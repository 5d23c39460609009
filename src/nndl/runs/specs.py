"""Run specs (nndl.tasks.runspec.RunSpec), resolved once from the config where the workflow is
parsed, and the hashes made of them.

A spec is everything a run depends on: task, implementation, seed, every setting, the data it
trains on, its gates, device and threads, and where its files go. The rule hands the specs of a
chunk to its job through `params` (as JSON); the job logs each spec as its run's MLflow params and
its hash as the `config_hash` tag. Nothing below the workflow reads the whole config. A study's
runs are specs too (nndl.runs.grid), with the study's settings applied; nndl.runs.plan resolves
every run of a config.
"""

from __future__ import annotations

from dataclasses import replace

from nndl.runs import names
from nndl.data.sources import DataSpec, SyntheticData
from nndl.tasks.registry import task_named
from nndl.tasks.runspec import RunSpec, hash_of


def merged_settings(config: dict, task: str, settings: dict | None = None) -> tuple[dict, dict]:
    """(the task's settings, its data kind's settings or {}): the task's blocks with
    `settings` ({key: value}) applied to whichever holds the key."""
    blocks = task_named(task).setting_blocks
    hyperparameters = dict(config[blocks[0]])
    data_settings = dict(config[blocks[1]]) if len(blocks) > 1 else {}
    for key, value in (settings or {}).items():
        (hyperparameters if key in hyperparameters else data_settings)[key] = value
    return hyperparameters, data_settings


def resolve_data(config: dict, task: str, data_settings: dict) -> DataSpec:
    """The data a run of `task` trains on, as its kind resolves it."""
    return task_named(task).data.resolve(config, data_settings)


def resolve_run(config: dict, task: str, impl: str, seed: int, settings: dict | None = None) -> RunSpec:
    """One default run's spec: the task's blocks of the config with `settings` ({key: value}) applied."""
    hyperparameters, data_settings = merged_settings(config, task, settings)
    spec = RunSpec(names.run_name(task, impl, seed), task, impl, seed, task_named(task).settings(**hyperparameters),
                   resolve_data(config, task, data_settings), config["gates"][task],
                   config["evaluation"]["n_predictions"], config["device"],
                   config["train_threads"], dir="",  # the rule's `threads` come from the same key
                   numerics=config["numerics"])
    return replace(spec, dir=names.run_dir(task, impl, seed, training_key(spec)))


def training_key(spec: RunSpec) -> str:
    """A short hash of what trains a run: its spec without its name, folder, study and gates (the
    gates are checks on the result). It names the run's folder, so two configs that train the same
    run share its files, and two that differ never overwrite each other's."""
    found = spec.to_json()
    return hash_of({key: value for key, value in found.items() if key not in ("name", "dir", "study", "gates")})


def specs_digest(runs: list[RunSpec]) -> str:
    """A short hash of the specs a job reads: what Snakemake keeps of them in its metadata, and
    compares to rerun the job (the specs go to the job beside it, neither kept nor compared)."""
    return hash_of({"specs": [spec.to_json() for spec in runs]})


def synthetic_datasets(runs: list[RunSpec]) -> dict[str, dict]:
    """{digest: synthetic block} of every synthetic data set the runs train on."""
    return {spec.data.digest: spec.data.settings.to_json() for spec in runs if isinstance(spec.data, SyntheticData)}


def same_training(one: RunSpec, other: RunSpec) -> bool:
    """Whether two specs train the same run: equal but for their gates (checks on the result)."""
    return replace(one, gates={}) == replace(other, gates={})


def default_runs(runs: list[RunSpec]) -> list[RunSpec]:
    """The runs that are not part of a study: one per implementation and seed for each task."""
    return [spec for spec in runs if spec.study is None]


def seed_runs(runs: list[RunSpec], seed: int) -> dict[str, RunSpec]:
    """{'linreg-scratch': spec, ...}: the default runs of one seed, by learner."""
    return {names.learner(spec.task, spec.impl): spec for spec in default_runs(runs) if spec.seed == seed}
