"""This project's identity: made once, the first time the workflow is parsed, and kept in the
project (names.PROJECT_FILE, outside git, so each clone is a project of its own; a spare beside the
runs, names.PROJECT_SPARE, so that a lost .nndl/ loses nothing). Every MLflow run the pipeline
makes carries it, so that in a store shared with teammates (another clone, another machine) a
pipeline finds, ends, marks and deletes only its own runs.

The identity remembers the folder it belongs to. A project found in another folder was moved or
copied there (`cp -a A B`, the common way to try a variant): a copy, whose original still holds the
same identity (or whose .nndl/ folder is another one on the same file system), becomes a project
of its own, so that the two never end or supersede each other's runs; a move stays the same
project. Either is said in one line. No torch, no MLflow."""

from __future__ import annotations

import json
import secrets
import socket
import sys
import time
from pathlib import Path
from typing import TextIO

from filelock import FileLock

from nndl.commands import shell
from nndl.errors import ConfigError
from nndl.files import write_json
from nndl.runs import names


def project_identity(root: str | Path = ".", log: TextIO = sys.stderr) -> str:
    """The id of the project in `root` ('p-' and 12 hex digits): read back, made if there is none,
    made anew for a copy (see the module's docstring). Safe to call from several processes at once."""
    root = Path(root).resolve()
    kept_at, spare = root / names.PROJECT_FILE, root / names.PROJECT_SPARE
    kept_at.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(kept_at.with_name(f".{kept_at.name}.lock")):
        identity, said = _read_either(kept_at, spare)
        if identity is None:
            identity = _new(root)
            if _holds_runs(root):
                said = (f"this project's identity was lost ({names.PROJECT_FILE} and {names.PROJECT_SPARE} are both "
                        f"gone): it is a new project from now on ({identity['id']}). Its complete runs are recorded "
                        "under it from their files, without training; the runs the lost identity recorded stay in "
                        "the store beside them.")
        elif identity.get("folder") != str(root):
            identity, said = _moved_or_copied(identity, root)
        else:  # .nndl/ made again (a lost one): the folder it is now
            identity = {**identity, "anchor": _anchor(root)}
        # The spare goes beside the results once there are some (keep_spare, when the jobs end): a
        # first parse that stops (a bad config) leaves nothing there.
        for path in (kept_at, spare) if spare.parent.is_dir() else (kept_at,):
            if _read(path, quiet=True) != identity:
                write_json(identity, path)
    if said:
        print(f"nndl: {said}", file=log, flush=True)
    return identity["id"]


def keep_spare(root: str | Path = ".") -> None:
    """Keep the identity a second time beside the runs (names.PROJECT_SPARE) once there is a
    complete run to keep it for: the workflow calls it when its jobs end, done or not (a run whose
    data job failed leaves no results/ behind)."""
    root = Path(root).resolve()
    kept_at, spare = root / names.PROJECT_FILE, root / names.PROJECT_SPARE
    with FileLock(kept_at.with_name(f".{kept_at.name}.lock")):
        identity = _read(kept_at)
        if identity is not None and _holds_runs(root) and _read(spare, quiet=True) != identity:
            write_json(identity, spare)


def _holds_runs(root: Path) -> bool:
    """Whether the project holds a complete run (its record)."""
    return next((root / names.RUNS_ROOT).glob(f"*/*/*/{names.RECORD}"), None) is not None


def _read_either(kept_at: Path, spare: Path) -> tuple[dict | None, str | None]:
    """The identity in .nndl/, else its spare beside the runs (saying so), else None."""
    try:
        identity = _read(kept_at)
    except ConfigError:
        identity = _read(spare, quiet=True)
        if identity is None:
            raise
        return identity, (f"{names.PROJECT_FILE} was damaged: this project's identity ({identity['id']}) is read "
                          f"back from {names.PROJECT_SPARE}, so its runs in the store are still its own")
    if identity is not None:
        return identity, None
    identity = _read(spare, quiet=True)
    if identity is None:
        return None, None
    return identity, (f"{names.PROJECT_FILE} was missing: this project's identity ({identity['id']}) is read back "
                      f"from {names.PROJECT_SPARE}, so its runs in the store are still its own (none is recorded "
                      "again)")


def _moved_or_copied(identity: dict, root: Path) -> tuple[dict, str]:
    original = Path(identity.get("folder") or "/nonexistent")
    theirs = _read(original / names.PROJECT_FILE, quiet=True) or _read(original / names.PROJECT_SPARE, quiet=True)
    still_there = original != root and theirs is not None and theirs.get("id") == identity["id"]
    if still_there or _another_folder_here(identity, root):
        new = {**_new(root), "copied_from": {"id": identity["id"], "folder": str(original)}}
        return new, (f"this folder is a copy of {original} (project {identity['id']}): it is a project of its own "
                     f"from now on ({new['id']}), so neither ends, replaces or deletes the other's MLflow runs. Its "
                     "complete runs are recorded under it from their files, without training.")
    moved = {**identity, "folder": str(root), "anchor": _anchor(root), "moved_from": str(original)}
    return moved, f"this project moved here from {original}: it is the same project ({identity['id']})"


def _anchor(root: Path) -> list[int]:
    """[device, inode] of the project's .nndl/ folder: `mv` keeps them on one file system, a copy
    (`cp -a`, a restored backup) has another inode."""
    found = (root / names.PROJECT_FILE).parent.stat()
    return [found.st_dev, found.st_ino]


def _another_folder_here(identity: dict, root: Path) -> bool:
    """Whether .nndl/ is not the folder the identity was made in, on the same file system: a copy
    whose original was then moved or deleted. On another file system it cannot be told from a move."""
    recorded, found = identity.get("anchor"), _anchor(root)
    return isinstance(recorded, list) and recorded[0] == found[0] and recorded[1] != found[1]


def _new(root: Path) -> dict:
    return {"id": f"p-{secrets.token_hex(6)}", "made": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": socket.gethostname(), "folder": str(root), "anchor": _anchor(root)}


def _read(path: Path, quiet: bool = False) -> dict | None:
    """The identity in `path`, None if there is none; ConfigError if it is not one (None if `quiet`)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(found, dict) and isinstance(found.get("id"), str):
            return found
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        pass
    if quiet:
        return None
    raise ConfigError(f"{path} is not this project's identity file (JSON with an 'id'). If you did not edit it, move "
                      f"it aside ({shell('mv', path, f'{path}.damaged')}) and run again: a new identity is made, and "
                      "the complete runs are recorded again under it, without training (the old identity's runs stay "
                      "in the store, untouched).")
