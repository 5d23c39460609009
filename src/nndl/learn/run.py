"""One run, from its spec: build the learner, train it, evaluate it.

Nothing here decides whether a run should train, writes its files or talks to MLflow: the chunk
job (nndl.runs.chunk_job) does those, around `train_and_evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO
from dataclasses import dataclass

import torch

from nndl.data.tensors import TaskData
from nndl.learn import evaluation
from nndl.learn.device import device_name
from nndl.learn.learners import Learner, build_learner
from nndl.learn.losses import describe_loss
from nndl.learn.loop import fit
from nndl.numerics import in_force
from nndl.tasks.runspec import RunSpec


@dataclass
class RunResult:
    learner: Learner
    state: dict[str, torch.Tensor]  # the weights, on the CPU (model.pt)
    history: dict  # untrained baseline, per-epoch records, linreg trajectory
    metrics: dict  # evaluation, with a flat `summary` for MLflow
    predictions: dict  # the first test predictions, for the prediction grid
    train_seconds: float
    evaluate_seconds: float
    network: torch.nn.Module | None = None  # a concise learner's network, on the CPU (an MLflow Model)


# A model's own draws (dropout masks) come from a stream of their own: the run's seed moved past
# every seed a config can give, so never the stream its weights and minibatches draw from.
MODEL_STREAM = 2 ** 32


@contextmanager
def model_randomness(seed: int, device: torch.device) -> Iterator[None]:
    """torch's default generators (CPU, and `device`'s if a GPU), forked for the run and seeded by
    its seed, put back after: what nn.Dropout and a scratch model's masks draw from, so the same
    spec draws the same masks whichever runs came before it in the job. Only those two are seeded:
    no other GPU's generator is touched."""
    devices = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.random.default_generator.manual_seed(MODEL_STREAM + seed)
        for index in devices:
            torch.cuda.default_generators[index].manual_seed(MODEL_STREAM + seed)
        yield


def train_and_evaluate(spec: RunSpec, data: TaskData, device: torch.device,
                       progress: TextIO | None = None) -> RunResult:
    """Train the run described by `spec` on `data` and evaluate it. Training stops after an epoch
    whose loss is not finite (the history's `diverged` says where); the learner is evaluated as it
    is then. Each epoch's line goes to `progress`. Whether the run is a success is nndl.runs.outcome's call."""
    task, settings = spec.definition, spec.settings
    started, started_ms = time.perf_counter(), round(time.time() * 1000)
    generator = torch.Generator().manual_seed(spec.seed)
    with model_randomness(spec.seed, device):
        learner = build_learner(spec, generator, device)
        history = fit(learner, data.train, data.test, settings.batch_size, settings.epochs, generator,
                      classify=task.classify, record_trajectory=task.trajectory, progress=progress,
                      shuffle=settings.shuffle)
        trained = time.perf_counter()
        metrics, predictions = evaluation.evaluate_learner(task, learner, data.train, data.test, data.extras,
                                                           spec.n_predictions)
    evaluated = time.perf_counter()
    # What the numbers mean, beside them; the run's name and spec are in its record (nndl.runs.record).
    history.update({"loss": describe_loss(task, settings, spec.impl), "train_loss_kind": task.train_loss_kind,
                    "device": str(device), "device_name": device_name(device), "numerics": in_force(spec.numerics),
                    "started_ms": started_ms,
                    "seconds": {"train": trained - started, "evaluate": evaluated - trained}})
    if not task.classify:
        history["param_errors"] = metrics["vs_truth"]
    return RunResult(learner, learner.state_dict(), history, metrics, predictions, train_seconds=trained - started,
                     evaluate_seconds=evaluated - trained, network=learner.network())
