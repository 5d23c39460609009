"""One run, from its spec: build the learner, train it, evaluate it.

Nothing here decides whether a run should train, writes its files or talks to MLflow: the chunk
job (nndl.runs.train) does those, around `train_and_evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from nndl.data.tensors import TaskData
from nndl.learn import evaluation
from nndl.learn.learners import Learner, Objective, build_learner
from nndl.learn.loop import fit
from nndl.learn.tasks import TASKS


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
    is then. Whether the run is a success is nndl.runs.outcome's call."""
    task = TASKS[spec["task"]]
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(spec["seed"])
    objective = Objective.from_spec(spec)
    learner = build_learner(task.name, spec["impl"], data.train.X[0].numel(), task.n_outputs,
                            spec["learning_rate"], spec["init_std"], generator, device, spec["init"], objective)
    history = fit(learner, data.train, data.test, spec["batch_size"], spec["epochs"], generator,
                  classify=task.classify, record_trajectory=not task.classify, on_epoch=on_epoch,
                  shuffle=spec["shuffle"])
    trained = time.perf_counter()
    metrics, predictions = evaluation.evaluate_learner(task.name, learner, data.train, data.test, data.extras,
                                                       spec["n_predictions"])
    evaluated = time.perf_counter()
    # What the numbers mean, beside them; the run's name and spec are in its record (nndl.runs.record).
    history.update({"loss": objective.describe(task.name, spec["impl"]), "train_loss_kind": task.train_loss_kind,
                    "seconds": {"train": trained - started, "evaluate": evaluated - trained}})
    if not task.classify:
        history["param_errors"] = metrics["vs_truth"]
    return RunResult(learner, history, metrics, predictions, train_seconds=trained - started,
                     evaluate_seconds=evaluated - trained)
