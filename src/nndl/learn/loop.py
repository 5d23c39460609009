"""Train and evaluate a learner on in-memory tensors, batched by index.

`train_epoch` and `evaluate` return numbers; they never print, plot or log. `fit` runs the epochs,
stops after the first epoch with a non-finite loss, and hands each epoch's record to a callback.
"""

from __future__ import annotations

import math
import time
from typing import TextIO

import torch

from nndl.data.tensors import Split
from nndl.learn.learners import Learner

EVAL_BATCH = 8192
# A classifier records the largest logit of each of its first steps: where a naive softmax would
# overflow (nndl.theory.softmax_studies); kept on the device, copied off once after the pass.
LOGIT_STEPS = 100


def train_epoch(learner: Learner, data: Split, batch_size: int, generator: torch.Generator,
                classify: bool, trajectory: list | None = None, shuffle: bool = True,
                max_logits: list | None = None) -> dict[str, float]:
    """One pass over `data` in training mode: in a random order drawn from `generator`, or in
    stored order every epoch when not `shuffle`. The last minibatch holds the remainder when the batch size does not
    divide the data.

    Returns the mean per-example loss over the pass (and accuracy when `classify`), and
    `first_nonfinite_step` (1-based) with its minibatch loss `first_nonfinite_loss` when a step's
    loss was not finite. When `trajectory` is a list, the flattened weights and bias after every
    step are appended to it (as lists of floats, copied off the device once, after the pass); when
    `max_logits` is a list, the largest output of each of the first LOGIT_STEPS steps, likewise.
    """
    n, device = len(data), data.X.device
    learner.train_mode(True)
    order = torch.randperm(n, generator=generator).to(device) if shuffle else torch.arange(n, device=device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    # The first step whose loss is not finite and that loss, kept on the device: no sync per step.
    first_bad_step = torch.zeros((), device=device, dtype=torch.long)
    first_bad_loss = torch.zeros((), device=device)
    steps = []  # (d + 1,) weights and bias after each step, on the device: no sync per step
    largest = []  # () the largest logit of each of the first steps, on the device
    for step, start in enumerate(range(0, n, batch_size), 1):
        batch = order[start:start + batch_size]
        X, y = data.X[batch], data.y[batch]
        output = learner.forward(X)
        if max_logits is not None and step <= LOGIT_STEPS:
            largest.append(output.detach().max())
        losses = learner.loss(output, y)
        learner.step(losses)
        batch_loss = losses.detach().sum()
        loss_sum += batch_loss
        first_bad = (first_bad_step == 0) & ~torch.isfinite(batch_loss)
        first_bad_step = torch.where(first_bad, step, first_bad_step)
        first_bad_loss = torch.where(first_bad, batch_loss, first_bad_loss)
        if classify:
            correct += (output.detach().argmax(dim=1) == y).sum()
        if trajectory is not None:
            W, b = learner.weight_and_bias()
            steps.append(torch.cat([W.reshape(-1), b.reshape(-1)]))
    if steps:
        trajectory.extend(torch.stack(steps).tolist())
    if largest:
        max_logits.extend(torch.stack(largest).tolist())
    return _epoch_metrics(n, loss_sum, correct if classify else None, first_bad_step, first_bad_loss)


def _epoch_metrics(n: int, loss_sum: torch.Tensor, correct: torch.Tensor | None, first_bad_step: torch.Tensor,
                   first_bad_loss: torch.Tensor) -> dict[str, float]:
    """The pass's numbers, copied off the device once: mean loss, accuracy, the first bad step."""
    metrics = {"loss": loss_sum.item() / n}
    if correct is not None:
        metrics["accuracy"] = correct.item() / n
    if first_bad_step.item():
        metrics["first_nonfinite_step"] = first_bad_step.item()
        metrics["first_nonfinite_loss"] = first_bad_loss.item()  # summed over that minibatch
    return metrics


@torch.no_grad()
def predict(learner: Learner, data: Split, classify: bool) -> tuple[torch.Tensor, dict[str, float]]:
    """One forward pass over `data` in batches, in evaluation mode: (outputs (n, q), mean loss and accuracy)."""
    learner.train_mode(False)
    outputs, loss_sum, correct = [], 0.0, 0
    for start in range(0, len(data), EVAL_BATCH):
        X, y = data.X[start:start + EVAL_BATCH], data.y[start:start + EVAL_BATCH]
        output = learner.forward(X)
        outputs.append(output)
        loss_sum += learner.loss(output, y).sum().item()
        if classify:
            correct += (output.argmax(dim=1) == y).sum().item()
    metrics = {"loss": loss_sum / len(data)}
    if classify:
        metrics["accuracy"] = correct / len(data)
    return torch.cat(outputs), metrics


def evaluate(learner: Learner, data: Split, classify: bool) -> dict[str, float]:
    """Mean per-example loss (and accuracy) over `data`, without changing the learner."""
    return predict(learner, data, classify)[1]


def _for_the_theory(learner: Learner, classify: bool) -> dict:
    """What nndl.theory predicts from: a regression's start (weights then bias), or the list a
    classifier's first steps' largest logits go into."""
    if classify:
        return {"max_logits": []}
    return {"start": torch.cat([tensor.detach().reshape(-1) for tensor in learner.weight_and_bias()]).tolist()}


def fit(learner: Learner, train: Split, test: Split, batch_size: int, epochs: int,
        generator: torch.Generator, classify: bool, record_trajectory: bool = False,
        progress: TextIO | None = None, shuffle: bool = True) -> dict:
    """Train for `epochs`; return the history (untrained baseline, per-epoch records, trajectory).

    For regression `train/loss` is measured over the whole training set after the epoch (as the
    notes print it); for classification it is the mean over the epoch's minibatches (as the notes'
    chart shows it). Training stops after the first epoch with a loss that is not finite; the
    history then says where in `diverged`: {'epoch', 'step': the first minibatch whose loss was not
    finite (None if only an evaluation's loss was), 'step_loss': that minibatch's summed loss,
    'losses': the epoch's records that were not finite}. Whether that is an error is the caller's call.
    Each epoch's line goes to `progress` as it ends. A regression's history holds its start
    (`start`: weights then bias); a classifier's, the largest
    logit of each of its first steps (`max_logits`): what nndl.theory predicts from.
    """
    untrained = evaluate(learner, test, classify)
    history: dict = {"untrained": {f"untrained/test_{key}": value for key, value in untrained.items()},
                     "epochs": [], "trajectory": [] if record_trajectory else None, "diverged": None,
                     **_for_the_theory(learner, classify)}
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        train_metrics = train_epoch(learner, train, batch_size, generator, classify, history["trajectory"], shuffle,
                                    history.get("max_logits") if epoch == 1 else None)
        bad_step, bad_loss = train_metrics.pop("first_nonfinite_step", None), train_metrics.pop("first_nonfinite_loss", None)
        if not classify:
            train_metrics = evaluate(learner, train, classify)
        test_metrics = evaluate(learner, test, classify)
        record = {"epoch": epoch,
                  **{f"train/{key}": value for key, value in train_metrics.items()},
                  **{f"test/{key}": value for key, value in test_metrics.items()},
                  "epoch_seconds": time.perf_counter() - started}
        history["epochs"].append(record)
        if progress is not None:
            print(f"  epoch {epoch}/{epochs}  " + "  ".join(f"{key} {value:.6f}" for key, value in record.items()
                                                          if key != "epoch"), file=progress, flush=True)
        bad = {key: value for key, value in record.items() if key.endswith("loss") and not math.isfinite(value)}
        if bad or bad_step:
            history["diverged"] = {"epoch": epoch, "step": bad_step, "step_loss": bad_loss, "losses": bad}
            break
    return history
