"""The four learners: {linreg, softmax} x {scratch, concise}, behind one small interface.

A learner maps inputs to outputs, gives a per-example loss, and takes one update step from the
per-example losses of a minibatch. The training loop (nndl.learn.loop) needs nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import nn

from nndl.learn import scratch

@dataclass(frozen=True)
class Objective:
    """What a learner minimises and how a minibatch's losses become one update. The defaults are the notes'."""

    loss: str = "squared"  # linreg: squared | absolute | huber
    huber_delta: float = 1.0  # where huber turns from squared to absolute
    formula: str = "stable"  # softmax: stable (max shift, from logits) | naive (the notes' exp(o) / sum)
    reduction: str = "mean"  # mean | sum of the per-example losses of a minibatch

    @classmethod
    def from_spec(cls, spec: dict) -> "Objective":
        """The objective of a run spec: its keys that name one, the defaults for the rest."""
        return cls(**{field.name: spec[field.name] for field in fields(cls) if field.name in spec})

    def describe(self, task: str, impl: str) -> str:
        """The loss in words, as the report and the MLflow `loss` tag show it."""
        if task == "softmax":
            if self.formula == "naive":
                name = "cross-entropy on the naive softmax exp(o) / sum exp(o) (no max shift)"
            else:
                name = "cross-entropy (own, from logits)" if impl == "scratch" else "nn.CrossEntropyLoss"
        elif self.loss == "squared":
            name = ("squared loss (y_hat - y)^2 / 2" if impl == "scratch"
                    else "nn.MSELoss: (y_hat - y)^2, no 1/2 (twice the scratch loss at the same fit)")
        elif self.loss == "absolute":
            name = "absolute loss |y_hat - y|" if impl == "scratch" else "nn.L1Loss: |y_hat - y|"
        else:
            name = (f"Huber loss, delta {self.huber_delta}" if impl == "scratch"
                    else f"nn.HuberLoss(delta={self.huber_delta})")
        return name + (", summed over the minibatch" if self.reduction == "sum" else "")


class Learner:
    """Interface: forward, per-example loss, update step, and the weights to save."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-example losses, shape (batch,)."""
        raise NotImplementedError

    def step(self, losses: torch.Tensor) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """A copy of the weights on the CPU: a model trained on a GPU loads anywhere."""
        raise NotImplementedError

    def weight_and_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W (in, out), b (out,)) in the scratch layout, whichever the implementation."""
        raise NotImplementedError


def _classification_loss(objective: Objective, builtin) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The naive cross-entropy when the objective asks for it (either implementation), else `builtin`."""
    return scratch.naive_cross_entropy if objective.formula == "naive" else builtin


class ScratchLearner(Learner):
    def __init__(self, task: str, W: torch.Tensor, b: torch.Tensor, learning_rate: float, objective: Objective):
        self.task = task
        self.W = W.requires_grad_(True)
        self.b = b.requires_grad_(True)
        self.learning_rate = learning_rate
        self.objective = objective
        if task == "softmax":
            self.per_example = _classification_loss(objective, scratch.cross_entropy)
        else:
            self.per_example = {"squared": scratch.squared_loss, "absolute": scratch.absolute_loss,
                                "huber": lambda y_hat, y: scratch.huber_loss(y_hat, y, objective.huber_delta),
                                }[objective.loss]

    def forward(self, X):
        if self.task == "linreg":
            return scratch.linreg(X, self.W, self.b)
        return scratch.softmax_regression(X, self.W, self.b)

    def loss(self, output, y):
        return self.per_example(output, y).reshape(-1)

    def step(self, losses):
        losses.sum().backward()
        # sgd divides the summed gradient by this: the batch's size for a mean loss, 1 for a sum.
        divisor = len(losses) if self.objective.reduction == "mean" else 1
        scratch.sgd([self.W, self.b], self.learning_rate, batch_size=divisor)

    def state_dict(self):
        return {"W": self.W.detach().cpu().clone(), "b": self.b.detach().cpu().clone()}

    def weight_and_bias(self):
        return self.W.detach(), self.b.detach()


def concise_net(task: str, n_inputs: int, n_outputs: int) -> nn.Sequential:
    """The concise learner's network: a linear layer (after flattening the images for softmax)."""
    layers = [nn.Linear(n_inputs, n_outputs)] if task == "linreg" else [nn.Flatten(), nn.Linear(n_inputs, n_outputs)]
    return nn.Sequential(*layers)


def load_concise_net(task: str, state: dict[str, torch.Tensor]) -> nn.Sequential:
    """A concise learner's network from its saved state (model.pt): the shapes come from the state."""
    weight = next(value for key, value in state.items() if key.endswith("weight"))
    net = concise_net(task, weight.shape[1], weight.shape[0])
    net.load_state_dict(state)
    return net


class ConciseLearner(Learner):
    def __init__(self, task: str, W: torch.Tensor, b: torch.Tensor, learning_rate: float, objective: Objective):
        self.task = task
        self.objective = objective
        self.net = concise_net(task, *W.shape).to(W.device)
        linear = self.net[-1]
        with torch.no_grad():  # nn.Linear stores (out, in): same initial function as scratch
            linear.weight.copy_(W.T)
            linear.bias.copy_(b)
        # Per-example losses (reduction="none"); `step` reduces them as the objective says, which
        # gives the gradients of reduction="mean" or "sum".
        if task == "softmax":
            self.criterion = _classification_loss(objective, nn.CrossEntropyLoss(reduction="none"))
        else:
            self.criterion = {"squared": nn.MSELoss, "absolute": nn.L1Loss,
                              "huber": lambda reduction: nn.HuberLoss(reduction=reduction, delta=objective.huber_delta),
                              }[objective.loss](reduction="none")
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=learning_rate)

    def forward(self, X):
        return self.net(X)

    def loss(self, output, y):
        return self.criterion(output, y).reshape(-1)

    def step(self, losses):
        self.optimizer.zero_grad()
        (losses.mean() if self.objective.reduction == "mean" else losses.sum()).backward()
        self.optimizer.step()

    def state_dict(self):
        return {key: value.detach().cpu().clone() for key, value in self.net.state_dict().items()}

    def weight_and_bias(self):
        linear = self.net[-1]
        return linear.weight.detach().T, linear.bias.detach()


def build_learner(task: str, impl: str, n_inputs: int, n_outputs: int, learning_rate: float,
                  init_std: float, generator: torch.Generator, device: torch.device, init: str = "normal",
                  objective: Objective = Objective()) -> Learner:
    """Weights ~ N(0, init_std) drawn from `generator` on the CPU (same on any device), or zeros
    (`init="zeros"`: drawn all the same, so the generator, and with it the minibatch order, is
    where it would be: zero init changes the start and nothing else); bias 0."""
    W = torch.normal(0.0, init_std, (n_inputs, n_outputs), generator=generator)
    if init == "zeros":
        W.zero_()
    W = W.to(device)
    b = torch.zeros(n_outputs, device=device)
    learner_class = {"scratch": ScratchLearner, "concise": ConciseLearner}[impl]
    return learner_class(task, W, b, learning_rate, objective)


def predict_proba(output: torch.Tensor) -> torch.Tensor:
    return scratch.softmax(output)
