"""Which code decides what: the modules whose code computes a run's numbers (its record holds their
fingerprint), and the code of each rule (its job reruns when that code's fingerprint changes).

Fingerprints ignore comments and docstrings (nndl.fingerprint), so only a change to what the code
does retrains a run or reruns a job.
"""

from __future__ import annotations

from pathlib import Path

from nndl import fingerprint

# The code that computes a run's numbers: the learners, the training loop, evaluation, loading the
# data. Not how a run is logged, reported, drawn, validated, acquired or administered. Explicit, so
# that it is read and reviewed: tests/test_code.py checks it is exactly what nndl.learn.run and
# nndl.data.tensors import.
TRAINING_CODE = (
    "nndl", "nndl.data", "nndl.data.fashion_mnist", "nndl.data.idx", "nndl.data.synthetic",
    "nndl.data.tensors", "nndl.errors", "nndl.files", "nndl.learn", "nndl.learn.evaluation",
    "nndl.learn.learners", "nndl.learn.loop", "nndl.learn.run", "nndl.learn.scratch", "nndl.learn.tasks",
)


def training_code() -> str:
    """The fingerprint of TRAINING_CODE: a run trained by other code is trained again."""
    return fingerprint.fingerprint(list(TRAINING_CODE))


def rule_code(*files: str | Path) -> str:
    """The fingerprint of what a rule's script (and `files` such as its notebook) run: the files
    themselves and every package module they import (the package as imported here: the one the
    jobs import too)."""
    paths = [Path(path) for path in files]
    return fingerprint.fingerprint(fingerprint.closure(paths), files=paths)
