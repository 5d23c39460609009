"""Fashion-MNIST: acquire the four IDX files, verify them, and read them into arrays.

Sources are tried in order: a directory the user names, the system copy from Debian's package
`dataset-fashion-mnist`, then download mirrors. Every file is verified by the SHA-256 of its
*decompressed* bytes, because Debian recompressed the .gz files (same data, other .gz bytes).
"""

from __future__ import annotations

import gzip
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from nndl import idx
from nndl.download import download
from nndl.errors import DataError
from nndl.files import atomic_path, sha256_bytes, write_json


@dataclass(frozen=True)
class IdxFile:
    name: str  # without .gz
    sha256: str  # of the decompressed bytes
    size: int  # decompressed bytes


FILES = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47_040_016
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60_008
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7_840_016
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10_008
    ),
}
FILE_NAMES = [f"{spec.name}.gz" for spec in FILES.values()]

CLASS_NAMES = {
    "en": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "zh": ["T恤", "裤子", "套衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"],
}
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28)

HOW_TO_FIX = (
    "How to fix, any one of:\n"
    "  - install Debian's copy: sudo apt-get install dataset-fashion-mnist\n"
    "  - put the four .gz files in a folder and set data.fashion_mnist.local_dir to it\n"
    "  - give this machine network access to one of data.fashion_mnist.mirrors"
)


def verify_file(path: Path, spec: IdxFile, source: str) -> None:
    """Raise DataError naming the file, its source and both hashes unless `path` is the real file."""
    try:
        with gzip.open(path, "rb") as handle:
            actual = sha256_bytes(handle.read())
    except (OSError, EOFError) as error:
        raise DataError(
            f"{spec.name}.gz from {source} is not a complete gzip file ({error}): "
            f"it is truncated or corrupted; replace or delete it."
        ) from error
    if actual != spec.sha256:
        raise DataError(
            f"{spec.name}.gz from {source} failed verification:\n"
            f"  SHA-256 of its decompressed bytes is {actual}\n"
            f"  expected                            {spec.sha256}\n"
            f"The file is corrupted, truncated or not Fashion-MNIST: replace or delete it."
        )


def _copy_verified(candidate: Path, target: Path, spec: IdxFile, source: str) -> None:
    with atomic_path(target) as temporary:
        shutil.copyfile(candidate, temporary)
        verify_file(temporary, spec, source)


def acquire(
    destination: str | Path,
    local_dir: str | None,
    system_dir: str | None,
    mirrors: Sequence[str],
    retries: int = 3,
    timeout_s: float = 60.0,
    log: TextIO = sys.stderr,
) -> dict:
    """Put the four verified .gz files in `destination`; return a manifest of where each came from.

    A missing file moves on to the next source; a file that is present but fails verification in a
    folder the user named is an error, not something to skip silently.
    """
    manifest: dict[str, dict] = {}
    for spec in FILES.values():
        target = Path(destination) / f"{spec.name}.gz"
        tried: list[str] = []
        source = (_copy_from_folders(spec, target, local_dir, system_dir, tried, log)
                  or _download_from_mirrors(spec, target, mirrors, retries, timeout_s, tried, log))
        if source is None:
            raise DataError(
                f"Fashion-MNIST file {target.name} could not be found in any source. Tried:\n  - "
                + "\n  - ".join(tried) + "\n" + HOW_TO_FIX
            )
        manifest[target.name] = {"source": source, "sha256_decompressed": spec.sha256}
        print(f"{target.name}: verified (sha256 {spec.sha256[:12]}...)", file=log, flush=True)
    return manifest


def _copy_from_folders(spec: IdxFile, target: Path, local_dir: str | None, system_dir: str | None,
                       tried: list[str], log: TextIO) -> str | None:
    """Copy and verify the file from the first folder that has it; return its path, or None."""
    for label, folder in (("data.fashion_mnist.local_dir", local_dir),
                          ("the system copy (data.fashion_mnist.system_dir)", system_dir)):
        if not folder:
            continue
        candidate = Path(folder) / target.name
        if not candidate.is_file():
            tried.append(f"{label}: {candidate} does not exist{_similar_names(Path(folder), spec)}")
            continue
        print(f"{target.name}: copying from {candidate}", file=log, flush=True)
        _copy_verified(candidate, target, spec, source=f"{label} ({candidate})")
        return str(candidate)
    return None


def _download_from_mirrors(spec: IdxFile, target: Path, mirrors: Sequence[str], retries: int,
                           timeout_s: float, tried: list[str], log: TextIO) -> str | None:
    """Download and verify the file from the first mirror that has it; return its URL, or None."""
    if not mirrors:
        tried.append("download: data.fashion_mnist.mirrors is empty")
        return None
    print(f"{target.name}: not found locally, downloading", file=log, flush=True)
    urls = [mirror.rstrip("/") + "/" + target.name for mirror in mirrors]
    try:
        return download(urls, target, lambda path: verify_file(path, spec, "download"),
                        retries=retries, timeout_s=timeout_s, progress=log)
    except DataError as error:
        tried.append(f"download mirrors: {error}")
        return None


def _similar_names(folder: Path, spec: IdxFile) -> str:
    """Point at a file that is probably the right one under a wrong name."""
    if not folder.is_dir():
        return " (the folder does not exist)"
    stem = spec.name.split("-")[0]  # train / t10k
    kind = "images" if "images" in spec.name else "labels"
    similar = sorted(p.name for p in folder.iterdir() if stem in p.name and kind in p.name)
    return f"; similar names there: {', '.join(similar)} (rename to {spec.name}.gz)" if similar else ""


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


def write_manifest(manifest: dict, path: str | Path) -> None:
    write_json(manifest, path)


def load_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split ('train' or 'test') as (images (n, 28, 28) uint8, labels (n,) uint8)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(folder)
    images_path = folder / f"{FILES[f'{split}_images'].name}.gz"
    labels_path = folder / f"{FILES[f'{split}_labels'].name}.gz"
    try:
        images = idx.read_idx(images_path, expected_ndim=3)
        labels = idx.read_idx(labels_path, expected_ndim=1)
    except FileNotFoundError as error:
        raise DataError(f"{error.filename}: missing; run the fashion_mnist rule first") from error
    except ValueError as error:
        raise DataError(str(error)) from error
    if images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{images_path}: images are {images.shape[1:]}, expected {IMAGE_SHAPE}")
    if len(images) != len(labels):
        raise DataError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise DataError(f"{labels_path}: label {labels.max()} is outside 0..{NUM_CLASSES - 1}")
    return images, labels
