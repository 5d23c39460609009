"""One run, from its spec: build the learner, train it, evaluate it, check its gates, write its files.

Nothing here talks to MLflow or decides whether a run should train: nndl.chunks does both, for every
run of a chunk, around these functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from nndl import evaluation, layout
from nndl.datasets import TaskData
from nndl.errors import DivergenceError, GateError
from nndl.files import torch_save, write_json
from nndl.models import TASKS, Learner, Objective, build_learner, n_outputs
from nndl.training import describe_divergence, fit


@dataclass
class RunResult:
    learner: Learner
    history: dict  # untrained baseline, per-epoch records, linreg trajectory
    metrics: dict  # evaluation, with a flat `summary` for MLflow
    predictions: dict  # the first test predictions, for the prediction grid
    train_seconds: float
    evaluate_seconds: float


def train_and_evaluate(spec: dict, data: TaskData, device: torch.device,
                       on_epoch: Callable[[dict], None] | None = None) -> RunResult:
    """Train the run described by `spec` on `data` and evaluate it. Training stops after an epoch
    whose loss is not finite (the history's `diverged` says where); the learner is evaluated as it
    is then. `outcome` says whether the run is a success."""
    task = spec["task"]
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(spec["seed"])
    objective = Objective.from_spec(spec)
    learner = build_learner(task, spec["impl"], data.train.X[0].numel(), n_outputs(task),
                            spec["learning_rate"], spec["init_std"], generator, device, spec["init"], objective)
    history = fit(learner, data.train, data.test, spec["batch_size"], spec["epochs"], generator,
                  classify=TASKS[task].classify, record_trajectory=task == "linreg", on_epoch=on_epoch,
                  shuffle=spec["shuffle"])
    trained = time.perf_counter()
    metrics, predictions = evaluation.evaluate_learner(task, learner, data.train, data.test, data.extras,
                                                       spec["n_predictions"])
    evaluated = time.perf_counter()
    history.update({"run_name": spec["name"], "task": task, "impl": spec["impl"], "seed": spec["seed"],
                    "loss": objective.describe(task, spec["impl"]), "train_loss_kind": TASKS[task].train_loss_kind,
                    "settings": spec, "seconds": {"train": trained - started, "evaluate": evaluated - trained}})
    if task == "linreg":
        history["param_errors"] = metrics["vs_truth"]
    return RunResult(learner, history, metrics, predictions, train_seconds=trained - started,
                     evaluate_seconds=evaluated - trained)


def gate_failures(task: str, gates: dict, final: dict, errors: dict | None = None) -> list[str]:
    """Each missed gate as 'what: value vs bound (off by x)'; empty when all pass."""
    if task == "softmax":
        checks = [("train/loss", final["train/loss"], "<", gates["max_train_loss"]),
                  ("train/accuracy", final["train/accuracy"], ">", gates["min_train_accuracy"]),
                  ("test/accuracy", final["test/accuracy"], ">", gates["min_test_accuracy"])]
    else:
        bound = gates["max_param_error"]
        checks = [("max |w error|", errors["max_abs_w_error"], "<", bound),
                  ("|b error|", errors["abs_b_error"], "<", bound)]
    failures = []
    for name, value, relation, bound in checks:
        passed = value < bound if relation == "<" else value > bound
        if not passed:
            failures.append(f"{name} = {value:.6g}, gate {relation} {bound} (off by {abs(value - bound):.3g})")
    return failures


def outcome(spec: dict, history: dict) -> str | None:
    """Why the run is not a success, in a line ('diverged at epoch 1, step 3 (...)', 'missed its
    gates: ...'); None when it trained to the end and passed its gates."""
    if history.get("diverged"):
        return describe_divergence(history["diverged"])
    failures = gate_failures(spec["task"], spec["gates"], history["epochs"][-1], history.get("param_errors"))
    return "missed its gates: " + "; ".join(failures) if failures else None


def check_outcome(spec: dict, history: dict) -> None:
    """Raise DivergenceError or GateError when the run is not a success: a default run must be."""
    failed = outcome(spec, history)
    if failed is None:
        return
    if history.get("diverged"):
        raise DivergenceError(f"{spec['name']} {failed}. The learning rate is probably too large for this task.")
    raise GateError(f"{spec['name']} {failed.replace('its gates', 'its quality gate(s)')}. "
                    f"Check the hyperparameters, or relax gates.{spec['task']} in the config.")


def write_outputs(folder: str | Path, result: RunResult) -> list[Path]:
    """Weights (CPU tensors), history, metrics and predictions, each written atomically."""
    folder = Path(folder)
    paths = [folder / name for name in (layout.MODEL, layout.HISTORY, layout.METRICS, layout.PREDICTIONS)]
    torch_save(result.learner.state_dict(), paths[0])
    for path, content in zip(paths[1:], (result.history, result.metrics, result.predictions)):
        write_json(content, path)
    return paths
