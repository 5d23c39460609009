"""The chapter's model, one linear layer: linear regression's y = Xw + b, and softmax regression's
logits o = XW + b (the softmax lives in the loss and in predictions). A model module, as named by
its tasks' entries in nndl.tasks.registry (the interface: nndl.learn.learners)."""

from __future__ import annotations

import math

import torch
from torch import nn

from nndl.learn.scratch import Layer, initial_weight
from nndl.tasks.types import Hyperparameters


def init_layers(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters,
                generator: torch.Generator) -> list[Layer]:
    """[(W (in, out), b (out,))]: the weights as the settings say, drawn on the CPU; the bias 0."""
    return [(initial_weight((math.prod(input_shape), n_outputs), settings, generator), torch.zeros(n_outputs))]


def forward(layers: list[Layer], X: torch.Tensor, settings: Hyperparameters, training: bool) -> torch.Tensor:
    """The same in training and evaluation: the model has nothing random."""
    [(W, b)] = layers
    return X.reshape(-1, W.shape[0]) @ W + b  # (n, d) @ (d, q) + (q,) -> (n, q); images flattened to d = 784


def network(input_shape: tuple[int, ...], n_outputs: int, settings: Hyperparameters) -> nn.Sequential:
    """The concise model: nn.Linear after flattening (a no-op on linear regression's (n, d) inputs)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), n_outputs))
