"""What the workflow checks of every finished run when it is parsed, so that Snakemake sees it.

A chunk job's output is its manifest; the run files are not declared outputs, since Snakemake
deletes a job's outputs before it runs it, and a chunk rerun for one damaged run would then
retrain the whole chunk. Instead each chunk has a check file among its inputs, rewritten (so it is
newer than the manifest, and the chunk is planned again) when one of the chunk's runs
- is new (a seed added: no folder, and its chunk never made one): its job trains it;
- lost its folder or a file, or holds one that is not as its record says (size, or SHA-256 where
  the file's size or mtime changed since the last check): its job trains that run again, the
  others being complete;
- has no live, whole MLflow record of this project in today's store and experiment (the store or
  the run was deleted, the store is another one, the record was cut short): its job records it
  from its files, without training.
A check file that was never needed is dated 1970, so it never makes a job rerun by itself.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from nndl.files import touch_old, write_json
from nndl.runs import names, record
from nndl.tasks.runspec import RunSpec
from nndl.tracking.probe import StoreState

CHECK_FILE = ".snakemake/nndl/chunk-checks/{group}-{part}-of-{parts}"  # a train_chunk input


def check_path(chunk: dict) -> str:
    """The check file of one chunk, {'group', 'part', 'parts'}."""
    return CHECK_FILE.format(**chunk)


def check_input(wildcards) -> str:
    """train_chunk's check input: the chunk's check file, made (dated 1970) if the workflow did not
    plan this chunk itself (a chunk asked for by name, cut for another budget)."""
    path = Path(check_path({"group": wildcards.group, "part": wildcards.part, "parts": wildcards.parts}))
    if not path.exists():
        touch_old(path)
    return str(path)


def check_run_files(pairs: list[tuple[dict, list[RunSpec]]], store: StoreState, where: str,
                    log: TextIO = sys.stderr) -> list[str]:
    """Flag each finished chunk that must run again (see the module's docstring); say why, one
    line a run (at most a few, then a count), and the new runs in one line; return the reasons
    (the new runs' are not among them). `where` names the store and experiment in messages.
    `pairs`: [(chunk, its runs)] (nndl.runs.chunks.ChunkPlan.pairs)."""
    hashed = _read_hashed(Path(names.HASHED_FILES))
    before = dict(hashed)
    reasons, new = [], []
    for chunk, members in pairs:
        path, manifest = Path(check_path(chunk)), Path(names.chunk_manifest(chunk))
        why, its_new = _why_again(members, store, where, hashed, _made(manifest)) if manifest.exists() else ([], [])
        if why or its_new:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The time makes each rewrite differ: Snakemake does not rerun a job for an input that
            # is newer but holds what it held when the job last ran (its checksum in the metadata).
            lines = why + [f"{folder}: a new run: its chunk's job trains it" for folder in its_new]
            path.write_text(f"checked at {time.time_ns()}\n" + "".join(f"{line}\n" for line in lines))
            reasons, new = reasons + why, new + its_new
        elif not path.exists():
            touch_old(path)
    _say(reasons, new, log)
    current = {spec.dir for _, members in pairs for spec in members}
    hashed = {folder: known for folder, known in hashed.items() if folder in current}  # today's runs only
    if hashed != before:
        write_json(hashed, names.HASHED_FILES)
    return reasons


def _say(reasons: list[str], new: list[str], log: TextIO) -> None:
    if len(new) == 1:
        print(f"nndl: {new[0]}: a new run: its chunk's job trains it", file=log)
    elif new:
        print(f"nndl: {len(new)} new runs ({new[0]} and {len(new) - 1} more): their chunks' jobs train them", file=log)
    for line in reasons[:5]:
        print(f"nndl: {line}", file=log)
    if len(reasons) > 5:
        print(f"nndl: ... and {len(reasons) - 5} more runs (the check files under {Path(CHECK_FILE).parent} "
              "list them)", file=log)


def _why_again(members: list[RunSpec], store: StoreState, where: str, hashed: dict,
               made: set[str]) -> tuple[list[str], list[str]]:
    """Why each of a finished chunk's runs must go through its job again, if it must, and the
    folders of its new runs; `made`: the run folders the chunk's job made or found complete when
    it last ran."""
    why, new = [], []
    for spec in members:
        key = record.intact(spec.dir, hashed)
        if key is None and not Path(spec.dir).exists():
            # No folder: a new run (a seed added, a setting changed), unless the chunk's job made it
            # or an earlier check found it complete: then it was deleted since.
            if hashed.pop(spec.dir, None) is not None or spec.dir in made:
                why.append(f"{spec.dir}: its folder was deleted: that run is trained again (the chunk's other runs "
                           "are complete and kept)")
            else:
                new.append(spec.dir)
        elif key is None:
            hashed.pop(spec.dir, None)
            why.append(f"{spec.dir}: a file is missing or not as its record ({names.RECORD}) says "
                       f"({record.what_is_wrong(spec.dir)}): that run is trained again (the chunk's other runs "
                       "are complete and kept)")
        elif store.live_keys is not None and key not in store.live_keys:
            why.append(f"{spec.dir}: complete, but {where} holds no live record of it made by this project "
                       "(deleted, another store, or cut short): its job records it there from its files, "
                       "without training")
    return why, new


def _made(manifest: Path) -> set[str]:
    """The run folders a chunk's manifest lists (none from a manifest of before they were listed)."""
    try:
        return {row["dir"] for row in json.loads(manifest.read_text())["runs"] if "dir" in row}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _read_hashed(path: Path) -> dict:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
