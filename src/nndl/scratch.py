"""From scratch: the model, loss and SGD update written on tensors (autograd gives the gradients)."""

from __future__ import annotations

import torch


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return X @ w + b  # (n, d) @ (d, 1) + (1,) -> (n, 1)


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example loss (y_hat - y)^2 / 2; the 1/2 makes its gradient y_hat - y."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


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


def softmax_regression(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Logits of softmax regression; the softmax itself lives in the loss and in predictions."""
    return X.reshape(-1, W.shape[0]) @ W + b  # (n, 784) @ (784, 10) + (10,) -> (n, 10)


@torch.no_grad()
def sgd(params: list[torch.Tensor], learning_rate: float, batch_size: int) -> None:
    """Minibatch SGD on a loss *summed* over the batch: divide by the batch size here."""
    for param in params:
        param -= learning_rate * param.grad / batch_size
        param.grad.zero_()
