"""Synthetic linear-regression data: y = Xw + b + noise (the notes' section on linear regression).

Plain numpy, so the job that makes it does not pay for importing torch; training turns the arrays
into tensors.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from nndl.files import sha256_file, write_bytes, write_json

# A fixed timestamp inside the .npz: same arrays, same bytes (np.savez stamps the current time).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def polynomial_features(x: np.ndarray, degree: int) -> np.ndarray:
    """(n, degree) float32: x^i / i! for i = 1 .. degree of each x (n,) (d2l 4.4's features; the
    constant term x^0 / 0! is the model's bias). Computed in float64: x^19 / 19! is below float32's
    relative precision against the first terms, not below its range."""
    powers = np.arange(1, degree + 1)
    return (x.astype(np.float64)[:, None] ** powers / np.cumprod(powers.astype(np.float64))).astype(np.float32)


def synthetic_data(true_w: np.ndarray, true_b: float, num_examples: int, noise_std: float,
                   rng: np.random.Generator, noise: str = "gaussian",
                   polynomial: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return X (n, d) and y (n, 1) = X @ w + b + noise, as float32: X ~ N(0, 1), or with
    `polynomial` the features of one x ~ N(0, 1) per example (polynomial_features, d = len(w)). The
    noise has standard deviation `noise_std`: gaussian, or laplace (same spread, heavier tails)."""
    if polynomial:
        X = polynomial_features(rng.standard_normal(num_examples), len(true_w))
    else:
        X = rng.standard_normal((num_examples, len(true_w)), dtype=np.float32)
    y = X @ true_w + np.float32(true_b)  # (n, d) @ (d,) -> (n,)
    if noise == "laplace":
        y += rng.laplace(0.0, noise_std / np.sqrt(2), y.shape).astype(np.float32)  # var = 2 scale^2
    else:
        y += rng.normal(0.0, noise_std, y.shape).astype(np.float32)
    return X, y.reshape(-1, 1)


def make_dataset(true_w: list[float], true_b: float, n_train: int, n_test: int, noise_std: float, seed: int,
                 noise: str = "gaussian", outliers: int = 0, outlier_size: float = 10.0,
                 degree: int | None = None) -> dict[str, np.ndarray]:
    """Train and test splits drawn from the same model, fully determined by `seed`.

    `outliers` training targets (chosen at random, after both splits are drawn) are moved by
    `outlier_size` up or down: the corrupted points a robust loss should shrug off. The test split
    stays clean, so its loss measures the fit to the true model.

    With a `degree` the inputs are d2l 4.4's polynomial features of one x per example, up to the
    truth's degree (len(true_w)) or the fit's, whichever is higher; the arrays keep the first
    `degree` (what a model of that degree fits: fewer than the truth's underfits) and the true w as
    long (zeros past the truth's degree).
    """
    if outliers > n_train:
        raise ValueError(f"outliers = {outliers} is more than the {n_train} training examples (n_train)")
    rng = np.random.default_rng(seed)
    w = np.asarray(true_w, dtype=np.float32)
    if degree is not None:
        w = np.pad(w, (0, max(degree - len(w), 0)))
    X_train, y_train = synthetic_data(w, true_b, n_train, noise_std, rng, noise, polynomial=degree is not None)
    X_test, y_test = synthetic_data(w, true_b, n_test, noise_std, rng, noise, polynomial=degree is not None)
    if outliers:
        corrupted = rng.choice(n_train, size=outliers, replace=False)
        y_train[corrupted, 0] += np.float32(outlier_size) * rng.choice(np.float32([-1, 1]), size=outliers)
    if degree is not None:
        X_train, X_test, w = X_train[:, :degree], X_test[:, :degree], w[:degree]
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test,
            "true_w": w, "true_b": np.asarray([true_b], dtype=np.float32)}


# The keys of the config's `synthetic:` block that decide the arrays (all of them): make_dataset's
# arguments; a kind made the same way may add the rest of them (`degree`).
PARAMETERS = ("true_w", "true_b", "n_train", "n_test", "noise_std", "seed", "noise", "outliers", "outlier_size")
OPTIONAL = ("degree",)


def dataset_from(parameters: dict) -> dict[str, np.ndarray]:
    """make_dataset from a run spec's data block (or a synthetic kind's config block)."""
    return make_dataset(**{key: parameters[key] for key in PARAMETERS},
                        **{key: parameters[key] for key in OPTIONAL if key in parameters})


def save_dataset(dataset: dict[str, np.ndarray], arrays_path: str | Path,
                 description_path: str | Path, description: dict) -> None:
    """Write the arrays as a byte-reproducible .npz and a JSON description with its SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in dataset.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME), member.getvalue())
    write_bytes(buffer.getvalue(), arrays_path)
    write_json({**description, "arrays_sha256": sha256_file(arrays_path),
                "shapes": {key: list(value.shape) for key, value in dataset.items()}},
               description_path)


def load_dataset(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
