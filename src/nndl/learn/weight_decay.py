"""Weight decay (d2l 4.5): linear regression, y = Xw + b, trained on its loss plus
weight_decay / 2 * ||w||^2, the bias not decayed. From scratch the penalty is added to each update's
loss; concise, SGD's weight_decay on the weight's parameter group does the same. A model module, as
the weight_decay task's registry entry names it (the interface: nndl.learn.learners)."""

from __future__ import annotations

import torch
from torch import nn

from nndl.learn.decay import decayed_groups, weight_penalty
from nndl.learn.linear import forward, init_layers, network  # noqa: F401 (the model is linear regression's)
from nndl.learn.scratch import Layer
from nndl.tasks.types import Hyperparameters


def penalty(layers: list[Layer], settings: Hyperparameters) -> torch.Tensor | None:
    """weight_decay / 2 * ||w||^2 (`settings`: the weight_decay entry's WeightDecaySettings); None at 0."""
    return weight_penalty(layers, settings.weight_decay)


def param_groups(net: nn.Module, settings: Hyperparameters) -> list[dict]:
    """w decayed by SGD, b not: the penalty's gradient, concise."""
    return decayed_groups(net, settings.weight_decay)
