"""Synthetic linear-regression data: y = Xw + b + noise (the notes' section on linear regression)."""

from __future__ import annotations

from pathlib import Path

import torch

from nndl.files import sha256_file, torch_save, write_json


def synthetic_data(
    true_w: torch.Tensor, true_b: float, num_examples: int, noise_std: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return X (n, d) ~ N(0, 1) and y (n, 1) = X @ w + b + N(0, noise_std)."""
    X = torch.normal(0.0, 1.0, (num_examples, len(true_w)), generator=generator)
    y = X @ true_w + true_b  # (n, d) @ (d,) -> (n,)
    y += torch.normal(0.0, noise_std, y.shape, generator=generator)
    return X, y.reshape(-1, 1)


def make_dataset(true_w: list[float], true_b: float, n_train: int, n_test: int,
                 noise_std: float, seed: int) -> dict[str, torch.Tensor]:
    """Train and test splits drawn from the same model, fully determined by `seed`."""
    generator = torch.Generator().manual_seed(seed)
    w = torch.tensor(true_w, dtype=torch.float32)
    X_train, y_train = synthetic_data(w, true_b, n_train, noise_std, generator)
    X_test, y_test = synthetic_data(w, true_b, n_test, noise_std, generator)
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test,
            "true_w": w, "true_b": torch.tensor([true_b], dtype=torch.float32)}


def save_dataset(dataset: dict[str, torch.Tensor], tensors_path: str | Path,
                 description_path: str | Path, description: dict) -> None:
    """Write the tensors (torch.save) and a JSON description with the tensors' SHA-256."""
    torch_save(dataset, tensors_path)
    write_json({**description, "tensors_sha256": sha256_file(tensors_path),
                "shapes": {key: list(value.shape) for key, value in dataset.items()}},
               description_path)


def load_dataset(path: str | Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)
