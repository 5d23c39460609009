"""A small, learnable stand-in for Fashion-MNIST in the same IDX format (tests, quick looks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nndl.data import idx
from nndl.data.fashion_mnist import FILES, IMAGE_SHAPE, NUM_CLASSES
from nndl.files import atomic_path, sha256_bytes


def generate_stand_in(destination: str | Path, n_train: int, n_test: int, seed: int) -> dict:
    """Write a small, learnable stand-in for Fashion-MNIST in the same IDX .gz format.

    Each class has its own random template; an image is its template at a random brightness plus
    noise, so a linear model learns it in a few epochs. Same arguments, same bytes.
    """
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0, 1, size=(NUM_CLASSES, *IMAGE_SHAPE)) ** 3  # sparse bright spots

    def make(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, NUM_CLASSES, size=count)
        brightness = rng.uniform(120, 255, size=(count, 1, 1))
        noise = rng.normal(0, 40, size=(count, *IMAGE_SHAPE))
        images = np.clip(templates[labels] * brightness + noise, 0, 255).astype(np.uint8)
        return images, labels.astype(np.uint8)

    destination = Path(destination)
    train_images, train_labels = make(n_train)
    test_images, test_labels = make(n_test)
    arrays = {"train_images": train_images, "train_labels": train_labels,
              "test_images": test_images, "test_labels": test_labels}
    manifest = {}
    for key, array in arrays.items():
        file_name = f"{FILES[key].name}.gz"
        with atomic_path(destination / file_name) as temporary:
            idx.write_idx_gz(array, temporary)
        manifest[file_name] = {"source": f"generated (seed {seed})",
                               "sha256_decompressed": sha256_bytes(idx.encode_idx(array))}
    return manifest
