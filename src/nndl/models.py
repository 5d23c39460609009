"""The four learners: {linreg, softmax} x {scratch, concise}, behind one small interface.

A learner maps inputs to outputs, gives a per-example loss, and takes one update step from the
per-example losses of a minibatch. The training loop (nndl.training) needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nndl import scratch

NUM_CLASSES = 10


@dataclass(frozen=True)
class Task:
    name: str
    classify: bool
    train_loss_kind: str  # what `train/loss` means for this task


TASKS = {
    "linreg": Task("linreg", classify=False,
                   train_loss_kind="loss over the whole training set after each epoch, as the notes print it"),
    "softmax": Task("softmax", classify=True,
                    train_loss_kind="mean over the epoch's minibatches, as the notes' chart shows it"),
}
LOSS_NAMES = {
    ("linreg", "scratch"): "squared loss (y_hat - y)^2 / 2",
    ("linreg", "concise"): "nn.MSELoss: (y_hat - y)^2, no 1/2 (twice the scratch loss at the same fit)",
    ("softmax", "scratch"): "cross-entropy (own, from logits)",
    ("softmax", "concise"): "nn.CrossEntropyLoss",
}


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


class ScratchLearner(Learner):
    def __init__(self, task: str, W: torch.Tensor, b: torch.Tensor, learning_rate: float):
        self.task = task
        self.W = W.requires_grad_(True)
        self.b = b.requires_grad_(True)
        self.learning_rate = learning_rate

    def forward(self, X):
        if self.task == "linreg":
            return scratch.linreg(X, self.W, self.b)
        return scratch.softmax_regression(X, self.W, self.b)

    def loss(self, output, y):
        if self.task == "linreg":
            return scratch.squared_loss(output, y).reshape(-1)
        return scratch.cross_entropy(output, y)

    def step(self, losses):
        losses.sum().backward()
        scratch.sgd([self.W, self.b], self.learning_rate, batch_size=len(losses))

    def state_dict(self):
        return {"W": self.W.detach().cpu().clone(), "b": self.b.detach().cpu().clone()}

    def weight_and_bias(self):
        return self.W.detach(), self.b.detach()


class ConciseLearner(Learner):
    def __init__(self, task: str, W: torch.Tensor, b: torch.Tensor, learning_rate: float):
        self.task = task
        n_in, n_out = W.shape
        layers = [nn.Linear(n_in, n_out)] if task == "linreg" else [nn.Flatten(), nn.Linear(n_in, n_out)]
        self.net = nn.Sequential(*layers).to(W.device)
        linear = self.net[-1]
        with torch.no_grad():  # nn.Linear stores (out, in): same initial function as scratch
            linear.weight.copy_(W.T)
            linear.bias.copy_(b)
        self.criterion = nn.MSELoss(reduction="none") if task == "linreg" else nn.CrossEntropyLoss(reduction="none")
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=learning_rate)

    def forward(self, X):
        return self.net(X)

    def loss(self, output, y):
        return self.criterion(output, y).reshape(-1)

    def step(self, losses):
        self.optimizer.zero_grad()
        losses.mean().backward()
        self.optimizer.step()

    def state_dict(self):
        return {key: value.detach().cpu().clone() for key, value in self.net.state_dict().items()}

    def weight_and_bias(self):
        linear = self.net[-1]
        return linear.weight.detach().T, linear.bias.detach()


def build_learner(task: str, impl: str, n_inputs: int, n_outputs: int, learning_rate: float,
                  init_std: float, generator: torch.Generator, device: torch.device) -> Learner:
    """Weights ~ N(0, init_std) drawn from `generator` on the CPU (same on any device), bias 0."""
    W = torch.normal(0.0, init_std, (n_inputs, n_outputs), generator=generator).to(device)
    b = torch.zeros(n_outputs, device=device)
    learner_class = {"scratch": ScratchLearner, "concise": ConciseLearner}[impl]
    return learner_class(task, W, b, learning_rate)


def n_outputs(task: str) -> int:
    return 1 if task == "linreg" else NUM_CLASSES


def predict_proba(output: torch.Tensor) -> torch.Tensor:
    return scratch.softmax(output)
