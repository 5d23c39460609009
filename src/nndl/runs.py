"""One training run and its evaluation, end to end: what the Snakemake jobs call.

This is where the pieces meet: data on the device, a learner, the training loop, the quality gates,
files written atomically, and the MLflow run (through nndl.tracking).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import TextIO

import torch

from nndl import config as config_module
from nndl import evaluation, tracking
from nndl.datasets import load_task_data
from nndl.device import device_name, resolve_device
from nndl.envinfo import package_versions
from nndl.errors import GateError
from nndl.files import torch_save, write_json, write_text
from nndl.models import LOSS_NAMES, TASKS, build_learner, n_outputs
from nndl.provenance import git_state
from nndl.training import fit


def run_name(task: str, impl: str, seed: int) -> str:
    return f"{task}-{impl}-seed{seed}"


def gate_failures(task: str, gates: dict, final: dict, errors: dict | None = None) -> list[str]:
    """Each missed gate as 'what: value vs bound (off by x)'; empty when all pass."""
    failures = []
    if task == "softmax":
        checks = [("train/loss", final["train/loss"], "<", gates["max_train_loss"]),
                  ("train/accuracy", final["train/accuracy"], ">", gates["min_train_accuracy"]),
                  ("test/accuracy", final["test/accuracy"], ">", gates["min_test_accuracy"])]
    else:
        bound = gates["max_param_error"]
        checks = [("max |w error|", errors["max_abs_w_error"], "<", bound),
                  ("|b error|", errors["abs_b_error"], "<", bound)]
    for name, value, relation, bound in checks:
        passed = value < bound if relation == "<" else value > bound
        if not passed:
            failures.append(f"{name} = {value:.6g}, gate {relation} {bound} (off by {abs(value - bound):.3g})")
    return failures


def train(config: dict, task: str, impl: str, seed: int, data_path: str | Path, model_path: str | Path,
          history_path: str | Path, run_id_path: str | Path, threads: int, project_root: str | Path,
          log: TextIO = sys.stderr) -> dict:
    """Train one model, log it to MLflow, enforce the gates, write weights, history and run id."""
    started = time.perf_counter()
    device = resolve_device(config["device"])
    torch.set_num_threads(threads)
    settings = config_module.run_config(config, task, impl, seed)
    settings["threads"] = threads
    hyper = config[task]
    train_split, test_split, extras = load_task_data(task, data_path, device)
    print(f"{run_name(task, impl, seed)}: {len(train_split)} train / {len(test_split)} test examples "
          f"on {device} ({device_name(device)}), data ready in {time.perf_counter() - started:.1f} s",
          file=log, flush=True)
    git = git_state(project_root)
    tags = {"task": task, "impl": impl, "seed": str(seed), "device": str(device),
            "device_name": device_name(device), "torch_version": torch.__version__,
            "git_commit": git["commit"] or "unknown", "git_dirty": str(git["dirty"]),
            "config_hash": config_module.config_hash(config), "loss": LOSS_NAMES[(task, impl)],
            "python_version": platform.python_version(),
            **{f"version.{name}": version or "not installed" for name, version in package_versions().items()}}
    uri = config_module.tracking_uri(config, project_root)
    experiment = config["mlflow"]["experiment"]
    tracking.mark_orphaned_runs_killed(uri, experiment)
    with tracking.tracked_run(uri, experiment, run_name(task, impl, seed), settings, tags) as run:
        generator = torch.Generator().manual_seed(seed)
        learner = build_learner(task, impl, train_split.X[0].numel(), n_outputs(task),
                                hyper["learning_rate"], hyper["init_std"], generator, device)

        def report_epoch(record: dict) -> None:
            run.log_metrics({k: v for k, v in record.items() if k != "epoch"}, step=record["epoch"])
            numbers = "  ".join(f"{k} {v:.6f}" for k, v in record.items() if k != "epoch")
            print(f"  epoch {record['epoch']}/{hyper['epochs']}  {numbers}", file=log, flush=True)

        task_spec = TASKS[task]
        history = fit(learner, train_split, test_split, hyper["batch_size"], hyper["epochs"], generator,
                      classify=task_spec.classify, record_trajectory=task == "linreg", on_epoch=report_epoch)
        run.log_metrics(history["untrained"])
        history.update({"run_name": run_name(task, impl, seed), "task": task, "impl": impl, "seed": seed,
                        "loss": LOSS_NAMES[(task, impl)], "train_loss_kind": task_spec.train_loss_kind,
                        "device": str(device), "device_name": device_name(device),
                        "run_id": run.run_id, "settings": settings})
        errors = None
        if task == "linreg":
            W, b = learner.weight_and_bias()
            errors = evaluation.parameter_errors(W, b, extras["true_w"], extras["true_b"])
            history["param_errors"] = errors
        failures = gate_failures(task, settings["gates"], history["epochs"][-1], errors)
        if failures:
            print(json.dumps(history["epochs"], indent=1), file=log)
            raise GateError(f"{run_name(task, impl, seed)} missed its quality gate(s): " + "; ".join(failures)
                            + ". Check the hyperparameters, or relax gates." + task + " in the config.")
        torch_save(learner.state_dict(), model_path)
        write_json(history, history_path)
        run.log_artifact(history_path)
        run.log_artifact(model_path)
        if impl == "concise":
            example = train_split.X[:4].cpu().numpy()
            run.log_torch_model(learner.net.cpu(), example)
        run.log_metrics({"train_seconds": time.perf_counter() - started})
        run_id = run.run_id
    write_text(run_id + "\n", run_id_path)
    print(f"{run_name(task, impl, seed)}: finished in {time.perf_counter() - started:.1f} s, "
          f"MLflow run {run_id}", file=log, flush=True)
    return history
