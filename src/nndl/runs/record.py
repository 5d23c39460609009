"""A run's record: the hashes of its spec, training code and data, its status and outcome, and the
size and checksum of each of its files, in one file (`complete.json`), written last, with one reader.

A run is complete when its record was written for today's spec (gates aside: they are checks, not
training), by today's training code, on today's data, and every file of the run is there as it was
written. The record names no MLflow run: the files can be recorded into any store and experiment,
where the run's `key` finds them (nndl.tracking.ledger).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, fields
from pathlib import Path

from nndl.errors import DamagedFileError
from nndl.files import read_json, sha256_file, write_json
from nndl.runs import names
from nndl.runs.outcome import Outcome
from nndl.runs.specs import same_training, training_key
from nndl.tasks.runspec import RunSpec, spec_hash

OUTPUT_FILES = tuple(name for name in names.RUN_FILES if name != names.RECORD)


@dataclass(frozen=True)
class Record:
    name: str
    key: str  # the MLflow run's `nndl.run_key` tag: run_key(spec, code, data)
    spec_hash: str
    code_hash: str  # nndl.runs.code.training_code(its task)
    data_digest: str  # of the data's content (nndl.data.tensors.dataset_identity)
    status: str  # its MLflow status: FINISHED, or FAILED for a default run with an outcome (nndl.runs.outcome.status)
    outcome: Outcome | None
    spec: RunSpec
    files: dict[str, dict]  # {file name: {'bytes', 'sha256'}} of the run's other files

    def to_json(self) -> dict:
        return {**{item.name: getattr(self, item.name) for item in fields(self)},
                "outcome": self.outcome.to_json() if self.outcome else None, "spec": self.spec.to_json()}


def run_key(spec: RunSpec, code_hash: str, data_digest: str) -> str:
    """Which run this is (its name: a study run may train exactly as a default run does, and is
    still a run of its own) and what makes its numbers: its training spec, the code, the data."""
    return hashlib.sha256(f"{spec.name}:{training_key(spec)}:{code_hash}:{data_digest}".encode()).hexdigest()[:16]


def record_path(folder: str | Path) -> Path:
    return Path(folder) / names.RECORD


def write(record: Record, folder: str | Path) -> None:
    write_json(record.to_json(), record_path(folder))


def read(folder: str | Path) -> Record:
    """The record of a run folder (FileNotFoundError if the run never completed, DamagedFileError
    if the file is not JSON)."""
    data = read_json(record_path(folder))
    return Record(**{**data, "outcome": Outcome.from_json(data["outcome"]), "spec": RunSpec.from_json(data["spec"])})


def _readable(folder: Path) -> Record | None:
    try:
        return read(folder)
    except (FileNotFoundError, KeyError, TypeError, ValueError, DamagedFileError):  # none, damaged, or an older format
        return None


def intact(folder: str | Path, hashed: dict[str, dict] | None = None) -> str | None:
    """The run key of the folder's record if every file is there as it records (size and SHA-256),
    else None: what the workflow checks of each finished run when it is parsed. `hashed` (names.
    HASHED_FILES: {folder: {'stamps': [bytes, mtime_ns of each file], 'key': run key}}) holds the
    folders hashed and found right before: a folder whose files all kept their size and mtime is not
    read again (a stat each); one that changed is hashed again, and noted there when right."""
    folder = str(folder)
    try:
        stats = [os.stat(os.path.join(folder, name)) for name in names.RUN_FILES]
    except FileNotFoundError:
        return None
    stamps = [value for stat in stats for value in (stat.st_size, stat.st_mtime_ns)]
    known = hashed.get(folder) if hashed is not None else None
    if isinstance(known, dict) and known.get("stamps") == stamps:
        return known["key"]
    found = _readable(Path(folder))
    if found is None or not _sizes_match(Path(folder), found) or damaged_file(Path(folder), found) is not None:
        return None
    if hashed is not None:
        hashed[folder] = {"stamps": stamps, "key": found.key}
    return found.key


def what_is_wrong(folder: str | Path) -> str:
    """Why a folder is not intact, in a few words naming the file."""
    folder = Path(folder)
    found = _readable(folder)
    if found is None:
        return f"{names.RECORD} is missing or unreadable"
    for name in OUTPUT_FILES:
        if not (folder / name).exists():
            return f"{name} is missing"
        if (folder / name).stat().st_size != found.files[name]["bytes"]:
            return f"{name} has another size"
    return f"{damaged_file(folder, found)} has another SHA-256"


def damaged_file(folder: Path, found: Record) -> str | None:
    """The first file of the folder whose SHA-256 is not its record's, if any."""
    return next((name for name in OUTPUT_FILES if sha256_file(folder / name) != found.files[name]["sha256"]), None)


def verified_bytes(folder: str | Path, name: str) -> bytes:
    """The bytes of run file `name`, checked against the SHA-256 in the folder's record: every
    reader of a run's numbers (figures, tables, the report, studies, recording again) reads through
    here, so a number that changed after the run wrote it is never shown. A mismatch raises
    DamagedFileError naming the file, and dates the file now, so that the next start of the
    workflow hashes it again and plans that run again."""
    folder = Path(folder)
    path = folder / name
    found = _readable(folder)
    if found is None:
        raise DamagedFileError(f"{folder} has no readable record ({names.RECORD}): the run is not complete. "
                               "Run snakemake again: it trains that run.")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != found.files.get(name, {}).get("sha256"):
        try:
            os.utime(path)  # its stamp changes: the workflow's check hashes it again (names.HASHED_FILES)
        except OSError:  # a file this user may not touch: the message still says what to do
            pass
        raise DamagedFileError(
            f"{path} is not the file its run wrote: its SHA-256 differs from the one in {path.with_name(names.RECORD)} "
            "(edited, or damaged on disk). Its numbers are not used. Run snakemake again: it trains that "
            f"run again (or delete {folder} first).")
    return data


def _sizes_match(folder: Path, found: Record) -> bool:
    try:
        return all((folder / name).stat().st_size == found.files[name]["bytes"] for name in OUTPUT_FILES)
    except (FileNotFoundError, KeyError):
        return False


def complete(spec: RunSpec, code_hash: str, data_digest: str) -> Record | None:
    """The run's record if the run is complete for this spec, code and data, every file as its
    checksum says; None otherwise."""
    folder = Path(spec.dir)
    found = _readable(folder)
    if found is None or not _sizes_match(folder, found):
        return None
    if (found.code_hash, found.data_digest) != (code_hash, data_digest) \
            or not same_training(found.spec, spec):
        return None
    return None if damaged_file(folder, found) is not None else found


def new(spec: RunSpec, key: str, code_hash: str, data_digest: str, outcome: Outcome | None, status: str) -> Record:
    """The record of a run whose files are written; `key`: its run_key."""
    folder = Path(spec.dir)
    files = {name: {"bytes": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
             for name in OUTPUT_FILES}
    return Record(spec.name, key, spec_hash(spec), code_hash, data_digest,
                  status, outcome, spec, files)
