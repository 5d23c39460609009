"""The three in-memory ways to train softmax regression that the benchmark compares with the notes'.

Each function runs in a fresh process (see epoch_speed.py) and returns per-epoch seconds and the final
test accuracy; the process's peak memory is measured around it.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch.nn import functional

from benchmarks.common import SCHEMA
from nndl.config.validate import validate
from nndl.data.tensors import fashion_mnist_split
from nndl.learn.learners import build_learner
from nndl.learn.loop import fit
from nndl.runs.specs import resolve_run


def project(impl: str, gz_folder: Path, epochs: int, device: str, batch_size: int = 256,
            learning_rate: float = 0.1, seed: int = 0) -> dict:
    """The pipeline's own training function (nndl.learn.loop.fit), as the train rule calls it."""
    device = torch.device(device)
    train = fashion_mnist_split(gz_folder, "train", device)
    test = fashion_mnist_split(gz_folder, "test", device)
    generator = torch.Generator().manual_seed(seed)
    spec = resolve_run(validate({}, SCHEMA), "softmax", impl, seed, {"learning_rate": learning_rate})
    learner = build_learner(spec, generator, device)
    history = fit(learner, train, test, batch_size, epochs, generator, classify=True)
    return {"epoch_seconds": [r["epoch_seconds"] for r in history["epochs"]],
            "test_accuracy": history["epochs"][-1]["test/accuracy"]}


def floor(gz_folder: Path, epochs: int, device: str, batch_size: int = 256, learning_rate: float = 0.1,
          seed: int = 0) -> dict:
    """The least a training loop can do: shuffled index batches, forward, loss, backward, update.

    No metrics during training (only the test accuracy after each epoch, as the others do).
    """
    device = torch.device(device)
    train = fashion_mnist_split(gz_folder, "train", device)
    test = fashion_mnist_split(gz_folder, "test", device)
    X, y = train.X.reshape(-1, 784), train.y
    X_test = test.X.reshape(-1, 784)
    generator = torch.Generator().manual_seed(seed)
    W = torch.normal(0, 0.01, (784, 10), generator=generator).to(device).requires_grad_(True)
    b = torch.zeros(10, device=device, requires_grad=True)
    epoch_seconds, accuracy = [], 0.0
    for _ in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(len(X), generator=generator).to(device)
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            functional.cross_entropy(X[batch] @ W + b, y[batch]).backward()
            with torch.no_grad():
                W -= learning_rate * W.grad
                b -= learning_rate * b.grad
                W.grad = None
                b.grad = None
        with torch.no_grad():
            accuracy = ((X_test @ W + b).argmax(dim=1) == test.y).float().mean().item()
        epoch_seconds.append(time.perf_counter() - started)
    return {"epoch_seconds": epoch_seconds, "test_accuracy": accuracy}
