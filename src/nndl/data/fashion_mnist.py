"""Fashion-MNIST's facts (its four IDX files with their checksums, its classes) and the reader of
one split. No numpy at import: the workflow reads the file names where it is parsed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nndl.errors import DataError


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
NUM_CLASSES = len(CLASS_NAMES["en"])
IMAGE_SHAPE = (28, 28)


def load_split(folder: str | Path, split: str) -> tuple:
    """Read one split ('train' or 'test') as (images (n, 28, 28) uint8, labels (n,) uint8)."""
    from nndl.data.idx import read_idx

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(folder)
    images_path = folder / f"{FILES[f'{split}_images'].name}.gz"
    labels_path = folder / f"{FILES[f'{split}_labels'].name}.gz"
    try:
        images = read_idx(images_path, expected_ndim=3)
        labels = read_idx(labels_path, expected_ndim=1)
    except FileNotFoundError as error:
        raise DataError(f"{error.filename}: missing; run the fashion_mnist rule first") from error
    except ValueError as error:  # the copy changed after it was verified: cut short, edited
        raise DataError(f"{error}. The copy in {folder} is damaged: run snakemake again, and its data step "
                        "notices the file and replaces it with a verified copy (or delete the file first)") from error
    if images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{images_path}: images are {images.shape[1:]}, expected {IMAGE_SHAPE}")
    if len(images) != len(labels):
        raise DataError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise DataError(f"{labels_path}: label {labels.max()} is outside 0..{NUM_CLASSES - 1}")
    return images, labels
