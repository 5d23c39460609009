"""The notes' softmax-regression data path, reimplemented faithfully as the benchmark's reference.

torchvision's FashionMNIST dataset with a per-image ToTensor transform, read through a DataLoader
with 4 worker processes and batch 256, training `nn.Flatten() + nn.Linear(784, 10)` with
`nn.CrossEntropyLoss` and `torch.optim.SGD(lr=0.1)`, as in the notes' last section (with the
seed's bugs fixed: the metrics are accumulated for the built-in optimizer too).
"""

from __future__ import annotations

import gzip
import shutil
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils import data


def torchvision_root(gz_folder: Path, scratch: Path) -> Path:
    """Lay the verified .gz files out as torchvision expects them (root/FashionMNIST/raw/*-ubyte)."""
    raw = scratch / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for path in gz_folder.glob("*-ubyte.gz"):
        target = raw / path.name.removesuffix(".gz")
        if not target.exists():
            with gzip.open(path, "rb") as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    return scratch


def train(gz_folder: Path, scratch: Path, epochs: int, batch_size: int = 256, learning_rate: float = 0.1,
          workers: int = 4, seed: int = 0) -> dict:
    import torchvision
    from torchvision import transforms

    torch.manual_seed(seed)
    root = torchvision_root(gz_folder, scratch)
    trans = transforms.ToTensor()
    train_set = torchvision.datasets.FashionMNIST(root=str(root), train=True, transform=trans, download=False)
    test_set = torchvision.datasets.FashionMNIST(root=str(root), train=False, transform=trans, download=False)
    train_iter = data.DataLoader(train_set, batch_size, shuffle=True, num_workers=workers)
    test_iter = data.DataLoader(test_set, batch_size, shuffle=False, num_workers=workers)

    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.normal_(net[1].weight, std=0.01)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=learning_rate)
    epoch_seconds, test_accuracy = [], 0.0
    for _ in range(epochs):
        started = time.perf_counter()
        net.train()
        for X, y in train_iter:
            losses = loss(net(X), y)
            trainer.zero_grad()
            losses.mean().backward()
            trainer.step()
        net.eval()
        correct = total = 0
        with torch.no_grad():
            for X, y in test_iter:
                correct += (net(X).argmax(dim=1) == y).sum().item()
                total += y.numel()
        test_accuracy = correct / total
        epoch_seconds.append(time.perf_counter() - started)
    return {"epoch_seconds": epoch_seconds, "test_accuracy": test_accuracy}
