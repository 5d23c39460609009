"""A model module unlike the chapter's, for tests of the model interface (nndl.learn.learners): a
3x3 convolution on the (28, 28) images (its weight (channels, 1, 3, 3), no transpose), ReLU, dropout
with its own masks, and a linear layer; weight decay on the weights only, as a penalty from scratch
and as the optimizer's parameter groups concise."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

CHANNELS, KERNEL, DROPOUT, WEIGHT_DECAY = 3, 3, 0.5, 0.01


def init_layers(input_shape, n_outputs, settings, generator):
    height, width = input_shape
    features = CHANNELS * (height - KERNEL + 1) * (width - KERNEL + 1)
    return [(torch.normal(0.0, 0.1, (CHANNELS, 1, KERNEL, KERNEL), generator=generator), torch.zeros(CHANNELS)),
            (torch.normal(0.0, 0.01, (features, n_outputs), generator=generator), torch.zeros(n_outputs))]


def dropout(H: torch.Tensor, training: bool) -> torch.Tensor:
    if not training:
        return H
    keep = (torch.rand(H.shape, device=H.device) > DROPOUT).float()
    return keep * H / (1 - DROPOUT)


def forward(layers, X, settings, training):
    (kernel, kernel_bias), (W, b) = layers
    H = functional.relu(functional.conv2d(X.unsqueeze(1), kernel, kernel_bias))  # (n, 1, 28, 28) -> (n, 3, 26, 26)
    return dropout(H.flatten(1), training) @ W + b


def network(input_shape, n_outputs, settings):
    height, width = input_shape
    features = CHANNELS * (height - KERNEL + 1) * (width - KERNEL + 1)
    return nn.Sequential(nn.Unflatten(1, (1, height)), nn.Conv2d(1, CHANNELS, KERNEL), nn.ReLU(), nn.Flatten(),
                         nn.Dropout(DROPOUT), nn.Linear(features, n_outputs))


def load_layers(net, layers):
    (kernel, kernel_bias), (W, b) = layers
    net[1].weight.copy_(kernel)
    net[1].bias.copy_(kernel_bias)
    net[5].weight.copy_(W.T)
    net[5].bias.copy_(b)


def layers_of(net):
    return [(net[1].weight, net[1].bias), (net[5].weight.T, net[5].bias)]


def penalty(layers, settings):
    return WEIGHT_DECAY / 2 * sum((W ** 2).sum() for W, _ in layers)  # the minibatch's, once per update


def param_groups(net, settings):
    weights = [net[1].weight, net[5].weight]
    return [{"params": weights, "weight_decay": WEIGHT_DECAY}, {"params": [net[1].bias, net[5].bias]}]

