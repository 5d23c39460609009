"""A run's record: its MLflow id, spec, the hashes of its spec, training code and data, its status
and outcome, in one file (`complete.json`), written last, with one reader.

A run is complete when its record was written for today's spec (gates aside: they are checks, not
training), by today's training code, on today's data, and every file of the run is there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from nndl.files import read_json, write_json
from nndl.runs import names
from nndl.runs.outcome import Outcome
from nndl.runs.specs import spec_hash, without_gates


@dataclass(frozen=True)
class Record:
    name: str
    run_id: str  # the MLflow run
    spec_hash: str
    code_hash: str  # nndl.runs.code.training_code()
    data_digest: str  # of the data's content (nndl.data.tensors.dataset_identity)
    status: str  # FINISHED, or FAILED for a study run with an outcome
    outcome: Outcome | None
    spec: dict

    def to_json(self) -> dict:
        return {**asdict(self), "outcome": self.outcome.to_json() if self.outcome else None}


def record_path(folder: str | Path) -> Path:
    return Path(folder) / names.RECORD


def write(record: Record, folder: str | Path) -> None:
    write_json(record.to_json(), record_path(folder))


def read(folder: str | Path) -> Record:
    """The record of a run folder (FileNotFoundError if the run never completed)."""
    data = read_json(record_path(folder))
    return Record(**{**data, "outcome": Outcome.from_json(data["outcome"])})


def complete(spec: dict, code_hash: str, data_digest: str) -> Record | None:
    """The run's record if the run is complete for this spec, code and data; None otherwise."""
    folder = Path(spec["dir"])
    try:
        found = read(folder)
    except (FileNotFoundError, KeyError, TypeError, ValueError):  # none yet, or an older record's format
        return None
    if (found.code_hash, found.data_digest) != (code_hash, data_digest) \
            or without_gates(found.spec) != without_gates(spec):
        return None
    if not all((folder / name).is_file() for name in names.RUN_FILES):
        return None
    return found


def new(spec: dict, run_id: str, code_hash: str, data_digest: str, outcome: Outcome | None, status: str) -> Record:
    return Record(spec["name"], run_id, spec_hash(spec), code_hash, data_digest, status, outcome, spec)
