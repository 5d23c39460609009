"""Run specs: one plain, JSON-able dict per run, resolved once from the config where the workflow is
parsed.

A spec is everything a run depends on: task, implementation, seed, every hyperparameter and
setting, the data it trains on, its gates, device and threads, and where its files go. The rule
hands the specs of a chunk to its job through `params`; the job logs each spec as its run's MLflow
params and its hash as the `config_hash` tag. Nothing below the workflow reads the whole config.
A study's runs are specs too (nndl.runs.grid), with the study's settings applied; nndl.runs.plan
resolves every run of a config.
"""

from __future__ import annotations

import hashlib
import json

from nndl.learn.tasks import TASKS
from nndl.runs import names
from nndl.values import point_label

DATA_BLOCK = "synthetic"  # the linreg data's block: its keys are settings of the spec's `data`


def merged_settings(config: dict, task: str, settings: dict | None = None) -> tuple[dict, dict]:
    """(hyperparameters, data settings) of a run: the task's block and, for linreg, the synthetic
    data's, with `settings` ({key: value}) applied to whichever holds the key."""
    hyperparameters = dict(config[task])
    data_settings = dict(config[DATA_BLOCK]) if task == "linreg" else {}
    for key, value in (settings or {}).items():
        (hyperparameters if key in hyperparameters else data_settings)[key] = value
    return hyperparameters, data_settings


def resolve_run(config: dict, task: str, impl: str, seed: int, settings: dict | None = None) -> dict:
    """One run's spec: the task's block of the config with `settings` ({key: value}) applied."""
    hyperparameters, data_settings = merged_settings(config, task, settings)
    if task == "linreg":
        digest = synthetic_key(data_settings)
        data = {"digest": digest, "path": names.SYNTHETIC_DATA.format(digest=digest),
                "description": names.SYNTHETIC_DESCRIPTION.format(digest=digest), **data_settings}
    else:
        fashion = config["data"]["fashion_mnist"]
        data = {"path": fashion["dir"], "manifest": f"{fashion['dir']}/{names.DATA_MANIFEST}",
                "generate": fashion["generate"]}
    spec = {
        "name": names.run_name(task, impl, seed),
        "task": task,
        "impl": impl,
        "seed": seed,
        **hyperparameters,  # batch_size, learning_rate, epochs, init_std, init, reduction, shuffle, ...
        "data": data,
        "gates": config["gates"][task],
        "n_predictions": config["evaluation"]["n_predictions"],
        "device": config["device"],
        "threads": config["train_threads"],  # the rule's `threads` come from the same key
    }
    return {**spec, "dir": names.run_dir(task, impl, seed, training_key(spec))}


def training_key(spec: dict) -> str:
    """A short hash of what trains a run: its spec without its name, folder, study and gates (the
    gates are checks on the result). It names the run's folder, so two configs that train the same
    run share its files, and two that differ never overwrite each other's."""
    return spec_hash({key: value for key, value in spec.items() if key not in ("name", "dir", "study", "gates")})


def synthetic_key(data_settings: dict) -> str:
    """A short hash of a synthetic data block's settings: the name of its data files (the record's
    data digest is of their content)."""
    return hashlib.sha256(json.dumps(data_settings, sort_keys=True).encode()).hexdigest()[:10]


def synthetic_datasets(runs: list[dict]) -> dict[str, dict]:
    """{digest: synthetic block} of every synthetic data set the runs train on."""
    return {spec["data"]["digest"]: {key: value for key, value in spec["data"].items()
                                     if key not in ("digest", "path", "description")}
            for spec in runs if spec["task"] == "linreg"}


def run_params(spec: dict) -> dict:
    """A spec's settings, what its MLflow params show: all but its name, folder and study (the run's
    name and tags say those), so the compare view's parallel coordinates show what varies."""
    return {key: value for key, value in spec.items() if key not in ("name", "dir", "study")}


def spec_hash(spec: dict) -> str:
    """A short hash of one run's spec: same spec, same hash (the `config_hash` tag)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def without_gates(spec: dict) -> dict:
    """The spec as training sees it: gates are checks on the result, not part of training."""
    return {key: value for key, value in spec.items() if key != "gates"}


def describe_run(spec: dict) -> str:
    """The run's one-line description (the Description box of its MLflow page)."""
    what = f"{TASKS[spec['task']].title} ({spec['impl']})"
    if "study" in spec:
        return f"Study {spec['study']['name']}: {point_label(spec['study']['point'])}, seed {spec['seed']}; {what}."
    return (f"{what}, seed {spec['seed']}: batch {spec['batch_size']}, learning rate {spec['learning_rate']}, "
            f"{spec['epochs']} epochs.")


def default_runs(runs: list[dict]) -> list[dict]:
    """The runs that are not part of a study: the notes' four per seed."""
    return [spec for spec in runs if "study" not in spec]


def seed_runs(runs: list[dict], seed: int) -> dict[str, dict]:
    """{'linreg-scratch': spec, ...}: the default runs of one seed, by learner."""
    return {names.run_key(spec["task"], spec["impl"]): spec for spec in default_runs(runs) if spec["seed"] == seed}
