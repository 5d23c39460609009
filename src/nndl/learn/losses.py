"""A task's per-example loss, from scratch or from torch.nn, and how the report and MLflow name it.

The task's loss family (nndl.tasks.registry) picks the kind: regression (squared, absolute or Huber
loss, as the settings say) or classification (cross-entropy, stable or the notes' naive formula).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nndl.learn import scratch
from nndl.tasks.types import CLASSIFICATION, ClassifierSettings, Hyperparameters, RegressionSettings, Task

PerExample = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def per_example_loss(task: Task, settings: Hyperparameters, impl: str) -> PerExample:
    """The loss of each example of a minibatch (reduced by the learner's update, not here)."""
    if task.loss == CLASSIFICATION:
        return _classification(settings, impl)
    return _regression(settings, impl)


def _classification(settings: ClassifierSettings, impl: str) -> PerExample:
    if settings.formula == "naive":  # the notes' formula, in either implementation
        return scratch.naive_cross_entropy
    return scratch.cross_entropy if impl == "scratch" else nn.CrossEntropyLoss(reduction="none")


def _regression(settings: RegressionSettings, impl: str) -> PerExample:
    if impl == "scratch":
        return {"squared": scratch.squared_loss, "absolute": scratch.absolute_loss,
                "huber": lambda y_hat, y: scratch.huber_loss(y_hat, y, settings.huber_delta)}[settings.loss]
    if settings.loss == "huber":
        return nn.HuberLoss(reduction="none", delta=settings.huber_delta)
    return {"squared": nn.MSELoss, "absolute": nn.L1Loss}[settings.loss](reduction="none")


def describe_loss(task: Task, settings: Hyperparameters, impl: str) -> str:
    """The loss in words, as the report and the MLflow `loss` tag show it."""
    name = _classification_name(settings, impl) if task.loss == CLASSIFICATION else _regression_name(settings, impl)
    return name + (", summed over the minibatch" if settings.reduction == "sum" else "")


def _classification_name(settings: ClassifierSettings, impl: str) -> str:
    if settings.formula == "naive":
        return "cross-entropy on the naive softmax exp(o) / sum exp(o) (no max shift)"
    return "cross-entropy (own, from logits)" if impl == "scratch" else "nn.CrossEntropyLoss"


def _regression_name(settings: RegressionSettings, impl: str) -> str:
    scratch_name, concise_name = {
        "squared": ("squared loss (y_hat - y)^2 / 2", "nn.MSELoss: (y_hat - y)^2, no 1/2 (twice the scratch loss at "
                    "the same fit)"),
        "absolute": ("absolute loss |y_hat - y|", "nn.L1Loss: |y_hat - y|"),
        "huber": (f"Huber loss, delta {settings.huber_delta}", f"nn.HuberLoss(delta={settings.huber_delta})"),
    }[settings.loss]
    return scratch_name if impl == "scratch" else concise_name
