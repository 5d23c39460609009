"""Which code decides what: the modules whose code computes a run's numbers (its record holds their
fingerprint), and the code of each rule (its job reruns when that code's fingerprint changes).

Fingerprints ignore comments and docstrings (nndl.fingerprint), so only a change to what the code
does retrains a run or reruns a job.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from nndl import fingerprint
from nndl.tasks.types import Task

# The code that computes every run's numbers: the training loop, the learners, the losses,
# evaluation, loading the data, the numerics settings, and the types of a spec. Not how a run is
# logged, reported, drawn, validated, acquired or administered; not the registry of tasks, whose
# entries are counted one by one (training_code). Explicit, so that it is read and reviewed: tests/test_code.py checks it is exactly
# what nndl.learn.run and nndl.data.tensors import, but the registry.
TRAINING_CODE = (
    "nndl", "nndl.data", "nndl.data.fashion_mnist", "nndl.data.idx", "nndl.data.sources", "nndl.data.synthetic",
    "nndl.data.tensors", "nndl.errors", "nndl.files", "nndl.learn", "nndl.learn.device", "nndl.learn.evaluation",
    "nndl.learn.learners", "nndl.learn.loop", "nndl.learn.losses", "nndl.learn.run", "nndl.learn.scratch",
    "nndl.numerics", "nndl.settings", "nndl.tasks", "nndl.tasks.finals", "nndl.tasks.runspec", "nndl.tasks.types",
)
# The registry and what its entries share: counted entry by entry (Task.fingerprint_facts, the
# entry's repr), so adding or editing a task retrains that task's runs only.
REGISTRY = ("nndl.tasks.registry", "nndl.tasks.shared")


def training_code(task: Task) -> str:
    """The fingerprint of the code that trains `task`'s runs: TRAINING_CODE, the task's model module
    and its data kind's loading modules (and what they import), and what of its registry entry makes numbers. Editing one task's model or
    entry, or adding a task, retrains that task's runs only; editing the shared code retrains all."""
    # The model module and the data kind's loading and identity modules, which are imported by name.
    named = [task.model, *(path.rsplit(".", 1)[0] for path in (task.data.load, task.data.identity))]
    modules = set(TRAINING_CODE) | set(fingerprint.closure(named))
    digest = hashlib.sha256(f"{fingerprint.fingerprint(sorted(modules))}\0{task.fingerprint_facts()}".encode())
    return digest.hexdigest()[:12]


def chunk_code(script: str | Path, task: Task) -> str:
    """The fingerprint of what a chunk job of `task` runs: its script and every module it imports
    but the registry, whose entry for `task` counts instead (all of it: the job titles, judges and
    describes runs by it), and the code that trains `task` (training_code: its model module, which
    the learners import by name). A chunk job reruns when its own task's code changes, not another's."""
    script = Path(script)
    modules = [module for module in fingerprint.closure([script]) if module not in REGISTRY]
    mixed = f"{fingerprint.fingerprint(modules, files=[script])}\0{training_code(task)}\0{task!r}"
    return hashlib.sha256(mixed.encode()).hexdigest()[:12]


def rule_code(*files: str | Path) -> str:
    """The fingerprint of what a rule's script (and `files` such as its notebook) run: the files
    themselves and every package module they import (the package as imported here: the one the
    jobs import too)."""
    paths = [Path(path) for path in files]
    return fingerprint.fingerprint(fingerprint.closure(paths), files=paths)
