"""Weight decay (d2l 4.5) for any model module: the penalty a scratch update adds to its loss and
the concise optimizer's parameter groups that apply the same decay, both on the weights only (the
biases are not decayed, as in the book). A model module's `penalty` and `param_groups` (the
interface: nndl.learn.learners) hand these their `weight_decay` setting."""

from __future__ import annotations

import torch
from torch import nn

from nndl.learn.scratch import Layer


def weight_penalty(layers: list[Layer], weight_decay: float) -> torch.Tensor | None:
    """weight_decay / 2 * ||W||^2 over the layers' weights, biases left out; None at 0 (nothing to add)."""
    if weight_decay == 0:
        return None
    return weight_decay / 2 * sum((W ** 2).sum() for W, _ in layers)


def decayed_groups(net: nn.Module, weight_decay: float) -> list[dict]:
    """SGD's groups: weight decay on every nn.Linear's weight, none on any other parameter (the
    biases, and a layer of another kind's). SGD's weight_decay adds weight_decay * W to the
    gradient: the gradient of weight_penalty."""
    decayed = [module.weight for module in net.modules() if isinstance(module, nn.Linear)]
    chosen = {id(weight) for weight in decayed}
    return [{"params": decayed, "weight_decay": weight_decay},
            {"params": [parameter for parameter in net.parameters() if id(parameter) not in chosen]}]
