"""A run's files: written once by its chunk job (each atomically, the record last), read by the
figures, the studies and the report.

Only JSON at import time: the jobs that draw and report import this without torch.
"""

from __future__ import annotations

from pathlib import Path

from nndl.files import read_json, torch_save, write_json
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


def load_run(folder: str | Path) -> dict:
    """{'history', 'metrics', 'record'} of one complete run."""
    folder = Path(folder)
    return {"history": read_json(folder / names.HISTORY), "metrics": read_json(folder / names.METRICS),
            "record": record.read(folder)}


def read_predictions(folder: str | Path) -> dict:
    return read_json(Path(folder) / names.PREDICTIONS)
