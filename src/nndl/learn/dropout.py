"""Dropout (d2l 4.6): a multilayer perceptron with two hidden layers, 784 pixels -> num_hiddens1
(ReLU) -> num_hiddens2 (ReLU) -> 10 classes, each hidden layer's units zeroed with probability
dropout1, dropout2 in training and the survivors scaled by 1 / (1 - p), so a unit's expected value
is what evaluation, with dropout off, sees; weight_decay (0 by default) adds d2l 4.5's penalty on
the weights. A model module, as the dropout task's registry entry names it (the interface:
nndl.learn.learners).

From scratch it is the book's: its own parameters, W ~ N(0, init_std), biases 0, its own ReLU and
masks (uniform draws above p); concise, nn.Sequential with nn.Dropout. Both draw their masks from
torch's default generators, which the run seeds (nndl.learn.run.model_randomness), but not the same
draws: the two implementations' curves differ by the masks' luck.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nndl.learn.decay import decayed_groups, weight_penalty
from nndl.learn.mlp import relu
from nndl.learn.scratch import Layer, initial_weight
from nndl.tasks.types import Hyperparameters


def widths(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters) -> list[int]:
    """[784, 256, 256, 10]: `settings` is the dropout entry's DropoutSettings (nndl.tasks.registry)."""
    return [math.prod(input_shape), settings.num_hiddens1, settings.num_hiddens2, n_outputs]


def init_layers(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters,
                generator: torch.Generator) -> list[Layer]:
    sizes = widths(input_shape, n_outputs, settings)
    return [(initial_weight((fan_in, fan_out), settings, generator), torch.zeros(fan_out))
            for fan_in, fan_out in zip(sizes, sizes[1:])]


def dropout_layer(H: torch.Tensor, p: float) -> torch.Tensor:
    """Each unit zeroed with probability p, the rest scaled by 1 / (1 - p); p = 0 leaves H as it is."""
    if p == 0:
        return H
    keep = (torch.rand(H.shape, device=H.device) > p).to(H.dtype)
    return keep * H / (1.0 - p)


def forward(layers: list[Layer], X: torch.Tensor, settings: Hyperparameters, training: bool) -> torch.Tensor:
    (W1, b1), (W2, b2), (W3, b3) = layers
    H1 = relu(X.reshape(-1, W1.shape[0]) @ W1 + b1)  # (n, 28, 28) -> (n, 784) -> (n, num_hiddens1)
    if training:
        H1 = dropout_layer(H1, settings.dropout1)
    H2 = relu(H1 @ W2 + b2)
    if training:
        H2 = dropout_layer(H2, settings.dropout2)
    return H2 @ W3 + b3  # logits (n, 10)


def network(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters) -> nn.Sequential:
    n_inputs, hidden1, hidden2, n_outputs = widths(input_shape, n_outputs, settings)
    return nn.Sequential(nn.Flatten(), nn.Linear(n_inputs, hidden1), nn.ReLU(), nn.Dropout(settings.dropout1),
                         nn.Linear(hidden1, hidden2), nn.ReLU(), nn.Dropout(settings.dropout2),
                         nn.Linear(hidden2, n_outputs))


def penalty(layers: list[Layer], settings: Hyperparameters) -> torch.Tensor | None:
    """d2l 4.5's penalty on the weights (None at weight_decay 0, the default: nothing to add)."""
    return weight_penalty(layers, settings.weight_decay)


def param_groups(net: nn.Module, settings: Hyperparameters) -> list[dict]:
    """The concise optimizer's groups: weight decay on the linear layers' weights only, as the penalty."""
    return decayed_groups(net, settings.weight_decay)
