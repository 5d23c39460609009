"""What the workflow checks of every run's files when it is parsed, so that Snakemake sees them.

A chunk job's output is its manifest; the run files are not declared outputs, since Snakemake
deletes a job's outputs before it runs it, and a chunk rerun for one damaged run would then
retrain the whole chunk. Instead each chunk has a check file among its inputs: when a finished
chunk's run has lost a file, or a file's size is not the one its record gives, the check file is
rewritten (so it is newer than the manifest) and the chunk is planned again; its job then retrains
that run only, the others being complete. The same happens when the chunk's runs were recorded in
another MLflow store than today's (deleted, replaced): the job then records them from their files.
A check file that was never needed is dated 1970, so it never makes a job rerun by itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from nndl.files import touch_old
from nndl.runs import names, record
from nndl.runs.chunks import chunk_members

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


def check_run_files(chunks: list[dict], specs: list[dict], store: str | None, log: TextIO = sys.stderr) -> list[str]:
    """Flag each finished chunk that must run again: one of its runs is not intact
    (nndl.runs.record.intact), or its runs were recorded in another store than today's (`store`:
    nndl.tracking.probe.store_identity; '' when it cannot be known). Say why; return the reasons."""
    reasons = []
    for chunk in chunks:
        path, manifest = Path(check_path(chunk)), Path(names.chunk_manifest(chunk))
        why = _why_again(chunk, specs, manifest, store) if manifest.exists() else []
        if why:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{line}\n" for line in why))
            for line in why:
                print(f"nndl: {line}", file=log)
            reasons += why
        elif not path.exists():
            touch_old(path)
    return reasons


def _why_again(chunk: dict, specs: list[dict], manifest: Path, store: str | None) -> list[str]:
    damaged = [spec["dir"] for spec in chunk_members(specs, **chunk) if not record.intact(spec["dir"])]
    why = [f"{folder}: a file is missing or not as its record ({names.RECORD}) says: that run is trained "
           "again (the chunk's other runs are complete and kept)" for folder in damaged]
    try:
        recorded_in = json.loads(manifest.read_text()).get("store")
    except ValueError:
        recorded_in = None
    if store != "" and recorded_in != store:
        why.append(f"{manifest}: its runs were recorded in another MLflow store, or the store was deleted: "
                   "its job records them in this one from their files, without training")
    return why
