"""From scratch: the model, loss and SGD update written on tensors (autograd gives the gradients)."""

from __future__ import annotations

import torch

from nndl.tasks.types import Hyperparameters

Layer = tuple[torch.Tensor, torch.Tensor]  # (W (in, out), b (out,)): a layer in the scratch layout


def initial_weight(shape: tuple[int, int], settings: Hyperparameters, generator: torch.Generator) -> torch.Tensor:
    """Weights ~ N(0, init_std) drawn from `generator` on the CPU (the same on any device), or zeros
    (`init: zeros`: drawn all the same, so the generator, and with it the minibatch order, is where
    it would be: zero init changes the start and nothing else)."""
    W = torch.normal(0.0, settings.init_std, shape, generator=generator)
    return W.zero_() if settings.init == "zeros" else W


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example loss (y_hat - y)^2 / 2; the 1/2 makes its gradient y_hat - y."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def absolute_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example |y_hat - y|: grows linearly, so an outlier pulls no harder than any other point."""
    return (y_hat - y.reshape(y_hat.shape)).abs()


def huber_loss(y_hat: torch.Tensor, y: torch.Tensor, delta: float) -> torch.Tensor:
    """Per-example Huber loss: r^2 / 2 for |r| <= delta, delta * (|r| - delta / 2) beyond (as nn.HuberLoss)."""
    residual = (y_hat - y.reshape(y_hat.shape)).abs()
    return torch.where(residual <= delta, residual ** 2 / 2, delta * (residual - delta / 2))


def naive_softmax(logits: torch.Tensor) -> torch.Tensor:
    """The notes' softmax, exp(o) / sum exp(o), with no max shift: exp overflows to inf above about
    88.7 in float32, and inf / inf is nan. Kept to show what the shift in `softmax` prevents."""
    exp = torch.exp(logits)
    return exp / exp.sum(dim=1, keepdim=True)


def naive_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The notes' cross-entropy, -log(naive_softmax(o)[y]): log(0) = -inf once a probability underflows."""
    return -torch.log(naive_softmax(logits).gather(1, y.reshape(-1, 1)).squeeze(1))


def softmax(logits: torch.Tensor) -> torch.Tensor:
    """Row-wise softmax. Subtracting the row max first keeps exp() finite for any logits."""
    shifted = logits - logits.max(dim=1, keepdim=True).values
    exp = torch.exp(shifted)
    return exp / exp.sum(dim=1, keepdim=True)


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """log softmax(o)_j = o_j - max(o) - log(sum_k exp(o_k - max(o))), finite for any logits."""
    shifted = logits - logits.max(dim=1, keepdim=True).values
    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example -log softmax(logits)[y], computed from logits so it never takes log(0)."""
    return -log_softmax(logits).gather(1, y.reshape(-1, 1)).squeeze(1)  # (n, q) -> (n,)


@torch.no_grad()
def sgd(params: list[torch.Tensor], learning_rate: float, batch_size: int) -> None:
    """Minibatch SGD on a loss *summed* over the batch: divide by the batch size here (1 keeps the sum)."""
    for param in params:
        param -= learning_rate * param.grad / batch_size
        param.grad.zero_()
