"""Each task's data as tensors on the chosen device, loaded once per chunk, and its identity
(name and content digest) for the run's record."""

from __future__ import annotations

import hashlib
import importlib
import sys
from collections.abc import Callable
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import torch

from nndl.data import fashion_mnist, synthetic
from nndl.files import read_json
from nndl.data.sources import DataSpec, FashionData, SyntheticData


@dataclass
class Split:
    X: torch.Tensor  # (n, d) or (n, 28, 28)
    y: torch.Tensor  # (n, 1) float or (n,) int64

    def __len__(self) -> int:
        return len(self.X)


@dataclass
class TaskData:
    train: Split
    test: Split
    extras: dict = field(default_factory=dict)  # linreg: the true w and b; softmax: pixels per input unit


def pixel_factor(pixel_scale: float | str) -> tuple[str, float]:
    """('div', 255.0) for '1/255', ('mul', s) for a number s: how 0-255 pixels become inputs."""
    if isinstance(pixel_scale, str):
        numerator, denominator = pixel_scale.split("/")
        if numerator != "1":
            raise ValueError(f"pixel_scale {pixel_scale!r}: write a number, or 1/N")
        return "div", float(denominator)
    return "mul", float(pixel_scale)


# The notes' scaling, inputs in [0, 1]: also the config's default (softmax.pixel_scale).
UNIT_PIXELS = "1/255"


def fashion_mnist_split(folder: str | Path, split: str, device: torch.device,
                        pixel_scale: float | str = UNIT_PIXELS) -> Split:
    """Images as float32 pixels times `pixel_scale` (1/255: in [0, 1]; 1: raw 0-255), shape
    (n, 28, 28); labels int64 (n,). One copy, on `device`."""
    images, labels = fashion_mnist.load_split(folder, split)
    operation, factor = pixel_factor(pixel_scale)
    X = torch.from_numpy(images.copy()).to(device).float()
    X = X.div_(factor) if operation == "div" else X.mul_(factor)
    y = torch.from_numpy(labels.astype("int64")).to(device)
    return Split(X, y)


def load_synthetic(data: SyntheticData, device: torch.device, pixel_scale: float | str | None = None) -> TaskData:
    """The synthetic arrays' train and test splits on `device`, with the true w and b."""
    arrays = {name: torch.from_numpy(array) for name, array in synthetic.load_dataset(data.path).items()}
    train = Split(arrays["X_train"].to(device), arrays["y_train"].to(device))
    test = Split(arrays["X_test"].to(device), arrays["y_test"].to(device))
    return TaskData(train, test, {"true_w": arrays["true_w"], "true_b": arrays["true_b"]})


def load_fashion_mnist(data: FashionData, device: torch.device, pixel_scale: float | str | None = None) -> TaskData:
    """Fashion-MNIST's train and test splits on `device`, pixels times `pixel_scale` (None: 1/255)."""
    pixel_scale = pixel_scale or UNIT_PIXELS
    operation, factor = pixel_factor(pixel_scale)
    return TaskData(*(fashion_mnist_split(data.path, split, device, pixel_scale) for split in ("train", "test")),
                    {"pixels_per_unit": factor if operation == "div" else 1 / factor})


def by_path(dotted: str) -> Callable:
    """The function a data kind names by its dotted path ('nndl.data.tensors.load_synthetic')."""
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def load_task_data(data: DataSpec, device: torch.device, pixel_scale: float | str | None = None) -> TaskData:
    """A data set's train and test splits on `device`, as its kind loads them (`pixel_scale`: images')."""
    return by_path(data.load)(data, device, pixel_scale)


def synthetic_identity(data: SyntheticData) -> dict[str, str]:
    """A generated set's MLflow identity: its kind's dataset name and digest, its description's SHA-256
    of the arrays."""
    description = read_json(data.description)
    return {"name": f"{data.identity_name()}-{data.digest}", "digest": description["arrays_sha256"][:16],
            "source": str(Path(data.path).resolve())}


def fashion_mnist_identity(data: FashionData) -> dict[str, str]:
    """Fashion-MNIST's MLflow identity: the checksums of its four files from the verified manifest."""
    manifest = read_json(data.manifest)
    checksums = "".join(entry["sha256_decompressed"] for _, entry in sorted(manifest.items()))
    first = next(iter(manifest.values()))["source"]
    # Where the files came from: a folder or a mirror's URL; a generated stand-in has neither.
    source = first.rsplit("/", 1)[0] if "/" in first else str(Path(data.path).resolve())
    return {"name": "fashion-mnist-stand-in" if data.stand_in else "fashion-mnist",
            "digest": hashlib.sha256(checksums.encode()).hexdigest()[:16], "source": source}


def dataset_identity(data: DataSpec) -> dict[str, str]:
    """{'name', 'digest', 'source'} of a data set, for MLflow's Dataset column, as its kind says it
    (from what made or verified its files: their checksums)."""
    return by_path(data.identity)(data)


class DataSets:
    """The data sets of a chunk's runs on one device: each identified once and loaded once (per
    input scale), whichever run asks first."""

    def __init__(self, device: torch.device, log: TextIO = sys.stderr):
        self.device, self.log = device, log
        self.loaded: dict[tuple, TaskData] = {}
        self.identities: dict[str, dict[str, str]] = {}

    def identity(self, data: DataSpec) -> dict[str, str]:
        if data.path not in self.identities:
            self.identities[data.path] = dataset_identity(data)
        return self.identities[data.path]

    def load(self, data: DataSpec, pixel_scale: float | str | None) -> TaskData:
        key = (data.path, pixel_scale)
        if key not in self.loaded:
            loading = time.perf_counter()
            self.loaded[key] = load_task_data(data, self.device, pixel_scale)
            print(f"loaded {data.path}: {len(self.loaded[key].train)} train / {len(self.loaded[key].test)} "
                  f"test examples on {self.device} in {time.perf_counter() - loading:.1f} s", file=self.log, flush=True)
        return self.loaded[key]
