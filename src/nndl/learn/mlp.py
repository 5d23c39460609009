"""The next chapter's model (d2l 4.2 and 4.3): a multilayer perceptron, 784 pixels -> num_hiddens
(ReLU) [-> num_hiddens2 (ReLU)] -> 10 classes. A model module, as the mlp task's registry entry
names it (the interface: nndl.learn.learners).

From scratch it is the book's: its own parameters, W ~ N(0, init_std) (0.01) drawn layer by layer,
biases 0, its own ReLU; the same cross-entropy and SGD as softmax regression. Concise, it is
nn.Sequential with nn.ReLU, started from the same parameters.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nndl.learn.scratch import Layer, initial_weight
from nndl.tasks.types import Hyperparameters


def widths(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters) -> list[int]:
    """[784, 256, 10], or [784, 256, 128, 10] with a second hidden layer (num_hiddens2 > 0).
    `settings` is the mlp entry's MLPSettings (nndl.tasks.registry), typed by its base here: this
    module does not import the registry, so editing another task's entry leaves its fingerprint."""
    hidden = [settings.num_hiddens] + ([settings.num_hiddens2] if settings.num_hiddens2 else [])
    return [math.prod(input_shape), *hidden, n_outputs]


def init_layers(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters,
                generator: torch.Generator) -> list[Layer]:
    sizes = widths(input_shape, n_outputs, settings)
    return [(initial_weight((fan_in, fan_out), settings, generator), torch.zeros(fan_out))
            for fan_in, fan_out in zip(sizes, sizes[1:])]


def relu(X: torch.Tensor) -> torch.Tensor:
    return torch.max(X, torch.zeros_like(X))


def forward(layers: list[Layer], X: torch.Tensor, settings: Hyperparameters, training: bool) -> torch.Tensor:
    """The same in training and evaluation: the model has nothing random."""
    H = X.reshape(-1, layers[0][0].shape[0])  # (n, 28, 28) -> (n, 784)
    for W, b in layers[:-1]:
        H = relu(H @ W + b)
    W, b = layers[-1]
    return H @ W + b  # logits (n, 10)


def network(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters) -> nn.Sequential:
    sizes = widths(input_shape, n_outputs, settings)
    hidden = [module for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]) for module in (nn.Linear(fan_in, fan_out),
                                                                                         nn.ReLU())]
    return nn.Sequential(nn.Flatten(), *hidden, nn.Linear(sizes[-2], sizes[-1]))
