"""Learners: a task's model from scratch or concise, behind one small interface.

A learner maps inputs to outputs, gives a per-example loss, and takes one update step from the
per-example losses of a minibatch. The training loop (nndl.learn.loop) needs nothing else.

The model comes from the module the task's registry entry names (nndl.tasks.registry), which gives
    init_layers(n_inputs, n_outputs, settings, generator) -> [(W (in, out), b (out,)), ...]
    forward(layers, X) -> outputs                 # from scratch, on the layers
    network(n_inputs, n_outputs, settings) -> nn.Sequential   # concise: its nn.Linear in that order
Both implementations start from the same layers, so they see the same start and the same minibatches.
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


class Learner:
    """Interface: forward, per-example loss, update step, and the weights to save."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-example losses, shape (batch,)."""
        return self.per_example(output, y).reshape(-1)

    def step(self, losses: torch.Tensor) -> None:
        raise NotImplementedError

    def layers(self) -> list[Layer]:
        """Every layer as (W (in, out), b (out,)), the scratch layout, whichever the implementation."""
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
    def __init__(self, model: ModuleType, layers: list[Layer], learning_rate: float, reduction: str, per_example):
        self.model, self.learning_rate, self.reduction, self.per_example = model, learning_rate, reduction, per_example
        self.params = [(W.requires_grad_(True), b.requires_grad_(True)) for W, b in layers]

    def forward(self, X):
        return self.model.forward(self.params, X)

    def step(self, losses):
        losses.sum().backward()
        # sgd divides the summed gradient by this: the batch's size for a mean loss, 1 for a sum.
        divisor = len(losses) if self.reduction == "mean" else 1
        scratch.sgd([tensor for layer in self.params for tensor in layer], self.learning_rate, batch_size=divisor)

    def layers(self):
        return [(W.detach(), b.detach()) for W, b in self.params]

    def state_dict(self):
        """{'W': ..., 'b': ...} for one layer; {'W1', 'b1', 'W2', ...} for more."""
        number = (lambda index: "") if len(self.params) == 1 else (lambda index: str(index + 1))
        return {f"{name}{number(index)}": tensor.detach().cpu().clone()
                for index, layer in enumerate(self.params) for name, tensor in zip("Wb", layer)}


def linear_layers(net: nn.Module) -> list[nn.Linear]:
    return [module for module in net.modules() if isinstance(module, nn.Linear)]


class ConciseLearner(Learner):
    def __init__(self, net: nn.Module, layers: list[Layer], learning_rate: float, reduction: str, per_example):
        self.net, self.reduction, self.per_example = net, reduction, per_example
        with torch.no_grad():  # nn.Linear stores (out, in): the same initial function as scratch
            for linear, (W, b) in zip(linear_layers(net), layers, strict=True):
                linear.weight.copy_(W.T)
                linear.bias.copy_(b)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=learning_rate)

    def forward(self, X):
        return self.net(X)

    def step(self, losses):
        # Per-example losses (reduction="none") reduced here as the settings say: the gradients
        # of reduction="mean" or "sum".
        self.optimizer.zero_grad()
        (losses.mean() if self.reduction == "mean" else losses.sum()).backward()
        self.optimizer.step()

    def layers(self):
        return [(linear.weight.detach().T, linear.bias.detach()) for linear in linear_layers(self.net)]

    def state_dict(self):
        return {key: value.detach().cpu().clone() for key, value in self.net.state_dict().items()}

    def network(self):
        return copy.deepcopy(self.net).cpu()


def model_of(spec: RunSpec) -> ModuleType:
    """The module that builds the spec's task's model (its registry entry names it)."""
    return importlib.import_module(spec.definition.model)


def build_learner(spec: RunSpec, n_inputs: int, generator: torch.Generator, device: torch.device) -> Learner:
    """The spec's learner, its layers drawn from `generator` on the CPU (the same on any device)."""
    model, settings = model_of(spec), spec.settings
    layers = [(W.to(device), b.to(device))
              for W, b in model.init_layers(n_inputs, spec.definition.n_outputs, settings, generator)]
    per_example = per_example_loss(spec.definition, settings, spec.impl)
    if spec.impl == "scratch":
        return ScratchLearner(model, layers, settings.learning_rate, settings.reduction, per_example)
    net = model.network(n_inputs, spec.definition.n_outputs, settings).to(device)
    return ConciseLearner(net, layers, settings.learning_rate, settings.reduction, per_example)


def load_concise_net(spec: RunSpec, state: dict[str, torch.Tensor]) -> nn.Module:
    """A concise learner's network from its saved state (model.pt); the sizes come from the state."""
    weights = [value for key, value in state.items() if key.endswith("weight")]
    net = model_of(spec).network(weights[0].shape[1], weights[-1].shape[0], spec.settings)
    net.load_state_dict(state)
    return net


def predict_proba(output: torch.Tensor) -> torch.Tensor:
    return scratch.softmax(output)
