"""A run's files: written once by its chunk job (each atomically, the record last), read by the
figures, the studies and the report.

Only JSON at import time: the jobs that draw and report import this without torch.
"""

from __future__ import annotations

import json

from pathlib import Path

from nndl.files import torch_save, write_json
from nndl.runs import names, record


def write_outputs(folder: str | Path, learner_state: dict, history: dict, metrics: dict,
                  predictions: dict) -> list[Path]:
    """Weights (CPU tensors), history, metrics and predictions; the record comes after them."""
    folder = Path(folder)
    paths = [folder / name for name in (names.MODEL, names.HISTORY, names.METRICS, names.PREDICTIONS)]
    torch_save(learner_state, paths[0])
    for path, content in zip(paths[1:], (history, metrics, predictions)):
        write_json(content, path)
    return paths


def read_verified(folder: str | Path, name: str) -> dict:
    """The JSON of run file `name`, checked against its record first (nndl.runs.record.verified_bytes)."""
    return json.loads(record.verified_bytes(folder, name))


def load_run(folder: str | Path) -> dict:
    """{'history', 'metrics', 'record'} of one complete run, each file checked against its record."""
    return {"history": read_history(folder), "metrics": read_metrics(folder), "record": record.read(folder)}


def read_history(folder: str | Path) -> dict:
    return read_verified(folder, names.HISTORY)


def read_metrics(folder: str | Path) -> dict:
    return read_verified(folder, names.METRICS)


def read_predictions(folder: str | Path) -> dict:
    return read_verified(folder, names.PREDICTIONS)
