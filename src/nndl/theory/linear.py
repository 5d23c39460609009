"""Linear least squares as the chapter's linear regression sees it, from the training data itself.

The scratch loss is (y_hat - y)^2 / 2 averaged over a minibatch, so its Hessian over the training
set is H = X~^T X~ / n (X~: the inputs with a column of ones for the bias; shape (n, d + 1)).
nn.MSELoss has no 1/2 (twice the curvature), and a summed loss is B times the mean: `curvature`
gives the factor. Gradient descent from theta_0 on a quadratic is exact in closed form:
theta_t = theta* + (I - lr c H)^t (theta_0 - theta*).
"""

from __future__ import annotations

import math

import numpy as np

from nndl.data.synthetic import load_dataset
from nndl.tasks.runspec import RunSpec


def split_data(spec: RunSpec, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(X~ (n, d + 1), y (n,)) in float64: the run's inputs of `split` ('train' or 'test') with a
    column of ones, and targets."""
    arrays = load_dataset(spec.data.path)
    X = arrays[f"X_{split}"].astype(np.float64)
    return np.hstack([X, np.ones((len(X), 1))]), arrays[f"y_{split}"].astype(np.float64).reshape(-1)


def training_data(spec: RunSpec) -> tuple[np.ndarray, np.ndarray]:
    """split_data of the training split."""
    return split_data(spec, "train")


def true_parameters(spec: RunSpec) -> np.ndarray:
    """(w, b) of the model the data was drawn from, as one vector (d + 1,): as the arrays store it,
    as long as the inputs (a polynomial's truth is padded or cut to the fit's degree)."""
    arrays = load_dataset(spec.data.path)
    return np.concatenate([arrays["true_w"], arrays["true_b"]]).astype(np.float64)


def hessian(X: np.ndarray) -> np.ndarray:
    """X~^T X~ / n, (d + 1, d + 1): the mean squared loss's Hessian (with the 1/2)."""
    return X.T @ X / len(X)


def loss_units(spec: RunSpec) -> float:
    """The run's per-example loss over the scratch one, (y_hat - y)^2 / 2: 2 for nn.MSELoss (no 1/2)."""
    return 2.0 if spec.impl == "concise" else 1.0


def curvature(spec: RunSpec) -> float:
    """How much more curved the run's loss is than the scratch mean loss: loss_units, times the
    batch size for a summed loss."""
    return loss_units(spec) * (spec.settings.batch_size if spec.settings.reduction == "sum" else 1)


def least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """theta* = argmin |X~ theta - y|^2, (d + 1,)."""
    return np.linalg.lstsq(X, y, rcond=None)[0]


def steps(spec: RunSpec, n: int) -> int:
    """Parameter updates in the run: ceil(n / B) per epoch (the last minibatch holds the rest)."""
    return spec.settings.epochs * math.ceil(n / spec.settings.batch_size)


def gd_iterate(H: np.ndarray, theta_star: np.ndarray, theta_0: np.ndarray, rate: float, t: int) -> np.ndarray:
    """theta_t of gradient descent at `rate` (curvature included) on the quadratic with minimum theta*."""
    eigenvalues, vectors = np.linalg.eigh(H)
    factors = (1 - rate * eigenvalues) ** t
    return theta_star + vectors @ (factors * (vectors.T @ (theta_0 - theta_star)))


def contraction(H: np.ndarray, rate: float, t: int) -> np.ndarray:
    """(I - rate H)^t, (d + 1, d + 1): what t steps leave of a start's distance from the minimum."""
    eigenvalues, vectors = np.linalg.eigh(H)
    return (vectors * (1 - rate * eigenvalues) ** t) @ vectors.T


def half_mse(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    """The scratch training loss at theta: mean of (X~ theta - y)^2 / 2."""
    return float(np.mean((X @ theta - y) ** 2) / 2)


def mean_square_stable_rate(X: np.ndarray, batch_size: int) -> float:
    """The largest rate (curvature 1) at which minibatch SGD's mean squared distance from the minimum
    still shrinks: the spectral radius of Sigma -> E_B[(I - lr H_B) Sigma (I - lr H_B)] below 1,
    with minibatches of `batch_size` drawn without replacement. Below 2 / lambda_max: the minibatch
    Hessians H_B scatter around H."""
    n, p = X.shape
    outer = np.einsum("ni,nj->nij", X, X).reshape(n, p * p)
    H = hessian(X)
    HH = np.kron(H, H)
    spread = (n - batch_size) / (batch_size * (n - 1)) if n > 1 else 0.0  # finite-population correction
    second_moment = HH + spread * (outer.T @ outer / n - HH)  # E[H_B (x) H_B]
    identity, first = np.eye(p * p), np.kron(np.eye(p), H) + np.kron(H, np.eye(p))

    def radius(rate: float) -> float:
        return float(max(abs(np.linalg.eigvals(identity - rate * first + rate ** 2 * second_moment))))

    low, high = 0.0, 2 / float(np.linalg.eigvalsh(H).max())
    for _ in range(50):  # bisection: the radius crosses 1 once on (0, 2 / lambda_max)
        middle = (low + high) / 2
        low, high = (middle, high) if radius(middle) < 1 else (low, middle)
    return low


def expected_max_abs(mean: np.ndarray, std: np.ndarray, draws: int = 20000) -> float:
    """E max_i |mean_i + std_i z_i| for independent standard normal z: the expected max |w error|
    of an estimate with that bias and spread (a fixed seed, so the same inputs give the same number)."""
    z = np.random.default_rng(0).standard_normal((draws, len(mean)))
    return float(np.mean(np.max(np.abs(mean + std * z), axis=1)))
