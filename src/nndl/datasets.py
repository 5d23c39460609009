"""Load each task's data once, as tensors on the chosen device."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from nndl import fashion_mnist, synthetic
from nndl.training import Split


@dataclass
class TaskData:
    train: Split
    test: Split
    extras: dict = field(default_factory=dict)  # linreg: the true w and b


def fashion_mnist_split(folder: str | Path, split: str, device: torch.device) -> Split:
    """Images as float32 in [0, 1], shape (n, 28, 28); labels int64 (n,). One copy, on `device`."""
    images, labels = fashion_mnist.load_split(folder, split)
    X = torch.from_numpy(images.copy()).to(device).float().div_(255)
    y = torch.from_numpy(labels.astype("int64")).to(device)
    return Split(X, y)


def load_task_data(task: str, data_path: str | Path, device: torch.device) -> TaskData:
    if task == "linreg":
        data = {name: torch.from_numpy(array) for name, array in synthetic.load_dataset(data_path).items()}
        train = Split(data["X_train"].to(device), data["y_train"].to(device))
        test = Split(data["X_test"].to(device), data["y_test"].to(device))
        return TaskData(train, test, {"true_w": data["true_w"], "true_b": data["true_b"]})
    return TaskData(fashion_mnist_split(data_path, "train", device), fashion_mnist_split(data_path, "test", device))

