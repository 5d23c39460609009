"""The data sets a run can train on, as data: their settings and files, no arrays (a run's spec,
nndl.tasks.runspec, holds one). No torch, no numpy: the workflow imports this where it is parsed."""

from __future__ import annotations

from dataclasses import dataclass, fields

from nndl.data.fashion_mnist import IMAGE_SHAPE

SYNTHETIC, FASHION_MNIST = "synthetic", "fashion_mnist"  # the kinds: a task's entry names the one it trains on
DATA_KINDS = (SYNTHETIC, FASHION_MNIST)
FASHION_MNIST_TRAIN = 60_000  # training images of the real data set


@dataclass(frozen=True)
class SyntheticSettings:
    """The config's `synthetic:` block: what decides the arrays (nndl.data.synthetic.make_dataset)."""

    true_w: list[float]
    true_b: float
    n_train: int
    n_test: int
    noise_std: float
    seed: int
    noise: str  # gaussian | laplace
    outliers: int  # training targets moved by outlier_size
    outlier_size: float

    def to_json(self) -> dict:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class SyntheticData:
    """A synthetic data set: its settings, the hash of them that names its files, and the files."""

    digest: str
    path: str  # the arrays (.npz)
    description: str  # what made them, with their SHA-256 (.json)
    settings: SyntheticSettings

    kind = SYNTHETIC
    stand_in = False  # made as the notes make theirs: its numbers compare with the book's

    def inputs(self) -> list[str]:
        return [self.path, self.description]

    def train_examples(self) -> int:
        return self.settings.n_train

    def input_shape(self) -> tuple[int, ...]:
        return (len(self.settings.true_w),)

    def to_json(self) -> dict:
        return {"digest": self.digest, "path": self.path, "description": self.description, **self.settings.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> SyntheticData:
        keys = {item.name for item in fields(SyntheticSettings)}
        return cls(data["digest"], data["path"], data["description"],
                   SyntheticSettings(**{key: value for key, value in data.items() if key in keys}))


@dataclass(frozen=True)
class FashionData:
    """The verified Fashion-MNIST copy: its folder, its manifest, and the stand-in's settings if generated."""

    path: str
    manifest: str
    generate: dict | None  # {train, test, seed} of a generated stand-in; None: the real data

    kind = FASHION_MNIST

    @property
    def stand_in(self) -> bool:
        """Generated in Fashion-MNIST's format (the small config's): not the book's data."""
        return bool(self.generate)

    def inputs(self) -> list[str]:
        return [self.manifest]

    def train_examples(self) -> int:
        return self.generate["train"] if self.generate else FASHION_MNIST_TRAIN

    def input_shape(self) -> tuple[int, ...]:
        return IMAGE_SHAPE

    def to_json(self) -> dict:
        return {"path": self.path, "manifest": self.manifest, "generate": self.generate}

    @classmethod
    def from_json(cls, data: dict) -> FashionData:
        return cls(data["path"], data["manifest"], data["generate"])
