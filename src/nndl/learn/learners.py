"""Learners: a task's model from scratch or concise, behind one small interface.

A learner maps inputs to outputs, gives a per-example loss, takes one update step from the
per-example losses of a minibatch, and is in training or evaluation mode. The training loop
(nndl.learn.loop) needs nothing else, and switches the mode itself: training for each pass over the
training data, evaluation for every evaluation.

The model comes from the module the task's registry entry names (nndl.tasks.registry), which gives
    init_layers(input_shape, n_outputs, settings, generator) -> [(W, b), ...]   # the scratch layout
    forward(layers, X, settings, training) -> outputs   # from scratch, on the layers
    network(input_shape, n_outputs, settings) -> nn.Module   # concise
and may give
    load_layers(net, layers)   # start the network from the scratch layers (default: its nn.Linear
                               # modules in order, each W (in, out) transposed into weight (out, in))
    layers_of(net) -> [(W, b), ...]   # the network's parameters in the scratch layout (default: the same)
    penalty(layers, settings) -> () or None   # added to a scratch update's mean (or summed) loss, once
    param_groups(net, settings) -> [{'params': ..., <optimizer options>}, ...]   # the concise
                               # optimizer's groups (default: every parameter, no options)
`input_shape` is one example's (the data kind's: (28, 28) for an image, (d,) for a vector). Both
implementations start from the same layers, so they see the same start and the same minibatches.
A model's own randomness (dropout masks) draws from torch's default generators, which the run forks
and seeds (nndl.learn.run): nn.Dropout takes no generator.
"""

from __future__ import annotations

import copy
import importlib
from types import ModuleType

import torch
from torch import nn

from nndl.learn import scratch
from nndl.learn.losses import per_example_loss
from nndl.learn.scratch import Layer
from nndl.tasks.runspec import RunSpec
from nndl.tasks.types import Hyperparameters


class Learner:
    """Interface: forward, per-example loss, update step, mode, and the weights to save."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-example losses, shape (batch,)."""
        return self.per_example(output, y).reshape(-1)

    def step(self, losses: torch.Tensor) -> None:
        raise NotImplementedError

    def train_mode(self, training: bool) -> None:
        """Training (dropout on) or evaluation (off): the loop sets it before every pass."""
        raise NotImplementedError

    def layers(self) -> list[Layer]:
        """Every layer as (W, b), the scratch layout, whichever the implementation."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """A copy of the weights on the CPU: a model trained on a GPU loads anywhere."""
        raise NotImplementedError

    def weight_and_bias(self) -> Layer:
        """(W, b) of the last layer (linear regression's only one), in the scratch layout."""
        return self.layers()[-1]

    def network(self) -> nn.Module | None:
        """A copy of the concise network on the CPU (an MLflow Model); None from scratch."""
        return None


class ScratchLearner(Learner):
    def __init__(self, model: ModuleType, layers: list[Layer], settings: Hyperparameters, per_example):
        self.model, self.settings, self.per_example = model, settings, per_example
        self.params = [(W.requires_grad_(True), b.requires_grad_(True)) for W, b in layers]
        self.penalty = getattr(model, "penalty", None)
        self.training = True

    def forward(self, X):
        return self.model.forward(self.params, X, self.settings, self.training)

    def train_mode(self, training):
        self.training = training

    def step(self, losses):
        # sgd divides the summed gradient by this: the batch's size for a mean loss, 1 for a sum.
        divisor = len(losses) if self.settings.reduction == "mean" else 1
        total = losses.sum()
        penalty = self.penalty(self.params, self.settings) if self.penalty is not None else None
        if penalty is not None:  # once per update whatever the reduction, as SGD's weight_decay adds it concise
            total = total + divisor * penalty
        total.backward()
        scratch.sgd([tensor for layer in self.params for tensor in layer], self.settings.learning_rate,
                    batch_size=divisor)

    def layers(self):
        return [(W.detach(), b.detach()) for W, b in self.params]

    def state_dict(self):
        """{'W': ..., 'b': ...} for one layer; {'W1', 'b1', 'W2', ...} for more."""
        number = (lambda index: "") if len(self.params) == 1 else (lambda index: str(index + 1))
        return {f"{name}{number(index)}": tensor.detach().cpu().clone()
                for index, layer in enumerate(self.params) for name, tensor in zip("Wb", layer)}


def linear_layers(net: nn.Module) -> list[nn.Linear]:
    return [module for module in net.modules() if isinstance(module, nn.Linear)]


def linear_layers_of(net: nn.Module) -> list[Layer]:
    """The default scratch layout of a concise network: its nn.Linear modules' (weight.T, bias)."""
    return [(linear.weight.detach().T, linear.bias.detach()) for linear in linear_layers(net)]


@torch.no_grad()
def load_linear_layers(net: nn.Module, layers: list[Layer]) -> None:
    """The default start of a concise network: nn.Linear stores (out, in), so each W goes in transposed."""
    for linear, (W, b) in zip(linear_layers(net), layers, strict=True):
        linear.weight.copy_(W.T)
        linear.bias.copy_(b)


class ConciseLearner(Learner):
    def __init__(self, model: ModuleType, net: nn.Module, layers: list[Layer], settings: Hyperparameters,
                 per_example):
        self.net, self.reduction, self.per_example = net, settings.reduction, per_example
        self.layers_of = getattr(model, "layers_of", linear_layers_of)
        with torch.no_grad():
            getattr(model, "load_layers", load_linear_layers)(net, layers)  # the same initial function as scratch
        groups = model.param_groups(net, settings) if hasattr(model, "param_groups") else net.parameters()
        self.optimizer = torch.optim.SGD(groups, lr=settings.learning_rate)

    def forward(self, X):
        return self.net(X)

    def train_mode(self, training):
        self.net.train(training)

    def step(self, losses):
        # Per-example losses (reduction="none") reduced here as the settings say: the gradients
        # of reduction="mean" or "sum".
        self.optimizer.zero_grad()
        (losses.mean() if self.reduction == "mean" else losses.sum()).backward()
        self.optimizer.step()

    def layers(self):
        return [(W.detach(), b.detach()) for W, b in self.layers_of(self.net)]

    def state_dict(self):
        return {key: value.detach().cpu().clone() for key, value in self.net.state_dict().items()}

    def network(self):
        return copy.deepcopy(self.net).cpu().eval()


def model_of(spec: RunSpec) -> ModuleType:
    """The module that builds the spec's task's model (its registry entry names it)."""
    return importlib.import_module(spec.definition.model)


def build_learner(spec: RunSpec, generator: torch.Generator, device: torch.device) -> Learner:
    """The spec's learner, its layers drawn from `generator` on the CPU (the same on any device),
    for inputs of the shape its data kind gives."""
    model, settings, shape = model_of(spec), spec.settings, spec.data.input_shape()
    layers = [(W.to(device), b.to(device))
              for W, b in model.init_layers(shape, spec.definition.n_outputs, settings, generator)]
    per_example = per_example_loss(spec.definition, settings, spec.impl)
    if spec.impl == "scratch":
        return ScratchLearner(model, layers, settings, per_example)
    net = model.network(shape, spec.definition.n_outputs, settings).to(device)
    return ConciseLearner(model, net, layers, settings, per_example)


def load_concise_net(spec: RunSpec, state: dict[str, torch.Tensor]) -> nn.Module:
    """A concise learner's network from its saved state (model.pt), in evaluation mode."""
    net = model_of(spec).network(spec.data.input_shape(), spec.definition.n_outputs, spec.settings)
    net.load_state_dict(state)
    return net.eval()


def predict_proba(output: torch.Tensor) -> torch.Tensor:
    return scratch.softmax(output)
