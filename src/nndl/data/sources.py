"""The kinds of data set a run can train on, as data: each kind is its spec's class, which says
everything that differs between kinds: its name, the config block of its settings that a study
may vary, how a run's spec resolves it from the config, the files its rule makes, whether it is
images, and the functions that load it as tensors and give its identity (by dotted path: no torch
here). The registry of kinds is nndl.tasks.registry.DATA_KINDS, beside the tasks that train on them.
No torch, no numpy: the workflow imports this where it is parsed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import ClassVar

from nndl.data.fashion_mnist import IMAGE_SHAPE
from nndl.settings import setting

FASHION_MNIST_TRAIN = 60_000  # training images of the real data set
DATA_MANIFEST = "manifest.json"  # beside the four Fashion-MNIST files: where each came from, checksums
# One file pair per distinct block of a generated kind (synthetic:, polynomial:, high_dimensional:),
# named by its hash ('linreg-' for every kind: the linear data's files keep their names).
SYNTHETIC_DATA = "resources/synthetic/linreg-{digest}.npz"
SYNTHETIC_DESCRIPTION = "resources/synthetic/linreg-{digest}.json"


def manifest_path(folder: str) -> str:
    """The verified Fashion-MNIST copy's manifest in `folder` (its `data: fashion_mnist: dir`)."""
    return f"{folder}/{DATA_MANIFEST}"


def settings_key(settings: dict) -> str:
    """A short hash of a data block's settings: the name of its data files (the record's data digest
    is of their content)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


class DataSpec:
    """What a kind of data set says of itself, as class attributes and methods (its subclasses are
    the kinds); an instance is one data set, as a run's spec holds it."""

    kind: ClassVar[str]  # its name: a task's entry names the kind it trains on
    block: ClassVar[str | None] = None  # the config block of its settings, which a study may vary
    settings_type: ClassVar[type | None] = None  # that block's keys, declared with their rules (nndl.settings)
    # Its block's defaults where not its settings type's own (a kind that shares another's keys).
    defaults: ClassVar[dict] = {}
    images: ClassVar[bool] = False  # class-labelled images: a sample grid, a classifier's pixel_scale
    load: ClassVar[str]  # the function (dotted path) that loads it on a device: (spec, device, pixel_scale) -> TaskData
    identity: ClassVar[str]  # the function (dotted path) that names it for MLflow: (spec) -> {name, digest, source}
    path: str  # where its files are (a data set is loaded once per path in a job)
    stand_in: bool = False  # generated in another data set's stead: its numbers are not the book's
    clashing: ClassVar[tuple[str, ...]] = ()  # settings that together can make a block it cannot have (`problems`)

    @classmethod
    def resolve(cls, config: dict, settings: dict) -> DataSpec:
        """The data set a run trains on: from the validated `config` and its block's `settings`
        (with a study's applied)."""
        raise NotImplementedError

    @classmethod
    def problems(cls, settings: dict) -> list[str]:
        """What its block's `settings` ask that it cannot have, beyond each key's own schema."""
        return []

    def inputs(self) -> list[str]:
        """The files a training job needs (what its rule makes)."""
        raise NotImplementedError

    def train_examples(self) -> int:
        raise NotImplementedError

    def input_shape(self) -> tuple[int, ...]:
        """One example's shape, as a model gets it."""
        raise NotImplementedError

    def to_json(self) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class SyntheticSettings:
    """The config's `synthetic:` block: what decides the arrays (nndl.data.synthetic.make_dataset)."""

    true_w: list[float] = setting("The true weights w of y = Xw + b + noise.", type="array",
                                  items={"type": "number"}, minItems=1, default=[2.0, -3.4])
    true_b: float = setting("The true bias b.", default=4.2)
    n_train: int = setting("Training examples.", minimum=1, default=1000)
    n_test: int = setting("Held-out examples for the test loss.", minimum=1, default=200)
    noise_std: float = setting("Standard deviation of the Gaussian noise.", minimum=0, default=0.01)
    seed: int = setting("Seed of the generated data.", minimum=0, default=0)
    noise: str = setting("Distribution of the noise: gaussian, or laplace (same standard deviation, heavier tails).",
                         enum=["gaussian", "laplace"], default="gaussian")
    outliers: int = setting("Training targets corrupted by outlier_size (up or down); the test split stays clean.",
                            minimum=0, default=0)
    outlier_size: float = setting("How far each outlier's target is moved.", minimum=0, default=10.0)

    def to_json(self) -> dict:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class SyntheticData(DataSpec):
    """y = Xw + b + noise (nndl.data.synthetic): its settings, the hash of them that names its files,
    and the files, made by the synthetic_data rule. Made as the notes make theirs: its numbers
    compare with the book's. A kind made the same way with a block of its own (other defaults, or
    keys make_dataset takes beyond these: `degree`) is a subclass that says its block, settings type
    and defaults."""

    digest: str
    path: str  # the arrays (.npz)
    description: str  # what made them, with their SHA-256 (.json)
    settings: SyntheticSettings

    kind = "synthetic"
    block = "synthetic"
    settings_type = SyntheticSettings
    # MLflow's Dataset column names a set '<name>-<digest>': its kind's own name (dataset_name), this
    # kind's as it always was; a kind made the same way is named for its kind unless it says otherwise.
    dataset_name: ClassVar[str] = "synthetic-linreg"

    @classmethod
    def identity_name(cls) -> str:
        """'synthetic-linreg' for this kind, 'high-dimensional' for a subclass that says no name of its own."""
        return cls.__dict__.get("dataset_name", cls.kind.replace("_", "-"))
    clashing = ("outliers", "n_train")
    load = "nndl.data.tensors.load_synthetic"
    identity = "nndl.data.tensors.synthetic_identity"

    @classmethod
    def resolve(cls, config: dict, settings: dict) -> SyntheticData:
        digest = settings_key(settings)
        return cls(digest, SYNTHETIC_DATA.format(digest=digest), SYNTHETIC_DESCRIPTION.format(digest=digest),
                   cls.settings_type(**settings))

    @classmethod
    def problems(cls, settings: dict) -> list[str]:
        outliers, n_train = settings.get("outliers"), settings.get("n_train")
        if isinstance(outliers, int) and isinstance(n_train, int) and outliers > n_train:
            return [f"outliers = {outliers} is more than n_train = {n_train}"]
        return []

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
        keys = {item.name for item in fields(cls.settings_type)}
        return cls(data["digest"], data["path"], data["description"],
                   cls.settings_type(**{key: value for key, value in data.items() if key in keys}))


@dataclass(frozen=True)
class FashionData(DataSpec):
    """The verified Fashion-MNIST copy: its folder, its manifest, and the stand-in's settings if
    generated; acquired by the fashion_mnist rule from the config's `data: fashion_mnist:` block."""

    path: str
    manifest: str
    generate: dict | None  # {train, test, seed} of a generated stand-in; None: the real data

    kind = "fashion_mnist"
    images = True
    load = "nndl.data.tensors.load_fashion_mnist"
    identity = "nndl.data.tensors.fashion_mnist_identity"

    @classmethod
    def resolve(cls, config: dict, settings: dict) -> FashionData:
        fashion = config["data"]["fashion_mnist"]
        return cls(fashion["dir"], manifest_path(fashion["dir"]), fashion["generate"])

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


SYNTHETIC, FASHION_MNIST = SyntheticData.kind, FashionData.kind  # the kinds' names, as tasks' entries give them
