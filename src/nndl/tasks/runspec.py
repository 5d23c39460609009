"""A run's spec, typed: made once where the workflow is parsed (nndl.runs.specs), turned into JSON
only at a rule's params, the run's record and its MLflow params, and read back in the job.

Its JSON form is flat, as it always was: {'name', 'task', 'impl', 'seed', <each setting>, 'data',
'gates', 'n_predictions', 'device', 'threads', 'dir'[, 'study'][, 'numerics']}, so every hash made
of it (the spec hash, the training key that names the run's folder) is what it was: 'numerics' is
there only when it is not the default `fast` (a portable run is another run, with its own folder).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, replace
from typing import Any

from nndl.numerics import FAST
from nndl.data.sources import DataSpec
from nndl.tasks.registry import task_named
from nndl.tasks.types import Hyperparameters, Task


@dataclass(frozen=True)
class StudyPoint:
    """Which study a run belongs to and its grid point ({setting: value})."""

    name: str
    point: dict[str, Any]

    def to_json(self) -> dict:
        return {"name": self.name, "point": self.point}


@dataclass(frozen=True)
class RunSpec:
    """Everything a run depends on (nndl.runs.specs says how each part is resolved)."""

    name: str  # the MLflow run's name
    task: str  # a name in nndl.tasks.registry
    impl: str  # scratch | concise
    seed: int
    settings: Hyperparameters  # the task's settings block, with a study's settings applied
    data: DataSpec  # of the task's kind
    gates: dict[str, float]  # the task's gates block: checks on the result, not part of training
    n_predictions: int
    device: str
    threads: int  # torch threads, and the rule's threads (one config key)
    dir: str  # its folder: nndl.runs.names.run_dir / study_run_dir
    study: StudyPoint | None = None  # None: a default run
    numerics: str = FAST  # fast | portable: how the CPU does its float arithmetic (nndl.numerics)

    @property
    def definition(self) -> Task:
        """The task's registry entry."""
        return task_named(self.task)

    def to_json(self) -> dict:
        found = {"name": self.name, "task": self.task, "impl": self.impl, "seed": self.seed,
                 **{item.name: getattr(self.settings, item.name) for item in fields(self.settings)},
                 "data": self.data.to_json(), "gates": self.gates, "n_predictions": self.n_predictions,
                 "device": self.device, "threads": self.threads, "dir": self.dir}
        return (found | ({"study": self.study.to_json()} if self.study else {})
                | ({"numerics": self.numerics} if self.numerics != FAST else {}))

    @classmethod
    def from_json(cls, data: dict) -> RunSpec:
        """The spec of `to_json`'s form (a rule's params, a record's `spec`)."""
        task = task_named(data["task"])
        settings = task.settings(**{key: data[key] for key in task.settings.keys()})
        study = StudyPoint(**data["study"]) if "study" in data else None
        return cls(data["name"], data["task"], data["impl"], data["seed"], settings,
                   task.data.from_json(data["data"]), data["gates"], data["n_predictions"],
                   data["device"], data["threads"], data["dir"], study, data.get("numerics", FAST))

    def with_settings(self, **values) -> RunSpec:
        return replace(self, settings=replace(self.settings, **values))

    @property
    def input_scale(self) -> float | str | None:
        """What an image run's 0-255 pixels are multiplied by; None: inputs used as drawn."""
        return self.settings.pixel_scale if self.data.images else None


def hash_of(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def spec_hash(spec: RunSpec) -> str:
    """A short hash of one run's spec: same spec, same hash (the `config_hash` tag)."""
    return hash_of(spec.to_json())
