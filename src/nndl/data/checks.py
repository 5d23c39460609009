"""The verified Fashion-MNIST copy as the workflow sees it where it is parsed, so that the data step
notices a file that went missing or was damaged after it ran.

The data rule's output is the copy's manifest (each file's checksum); the four files themselves
are not declared outputs, since Snakemake deletes a job's outputs before it runs it, and one
damaged file would then cost the three good ones. Instead the rule has a check file among its
inputs: when a file of the copy is missing, or its size or modification time changed and its
checksum no longer matches the manifest, the check file is rewritten (newer than the manifest)
and the data rule is planned again; its job keeps the files that verify and replaces the others
from the sources, each only once it passed. A check file that was never needed is dated 1970.
Checksums are computed again only for a file whose size or time changed since they last matched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from nndl.data.verify import damage
from nndl.errors import DamagedFileError
from nndl.files import read_json, touch_old, write_json

CHECKS = ".snakemake/nndl/data-checks"  # per data folder: the rule's check input, and the stamps


def check_copy(manifest: str | Path, log: TextIO = sys.stderr) -> str:
    """The data rule's check input: rewritten, with each problem said, when a file the manifest
    lists is missing or damaged; else as it was (made dated 1970 the first time)."""
    manifest = Path(manifest)
    check = Path(CHECKS) / manifest.parent.as_posix().strip("/").replace("/", "_")
    stamps = check.parent / f"{check.name}.verified.json"
    problems = _problems(manifest, stamps) if manifest.exists() else []
    if problems:
        check.parent.mkdir(parents=True, exist_ok=True)
        check.write_text("".join(f"{line}\n" for line in problems))
        for line in problems:
            print(f"nndl: {line}", file=log)
    elif not check.exists():
        touch_old(check)
    return str(check)


def _problems(manifest: Path, stamps_file: Path) -> list[str]:
    """What is wrong with the files `manifest` lists; `stamps_file` keeps {path: [size, mtime]} of
    each file when its checksum last matched."""
    try:
        entries = json.loads(manifest.read_text())
    except (OSError, ValueError) as error:
        return [f"{manifest} cannot be read ({error}): the fashion_mnist job verifies the files again and "
                "writes it anew"]
    stamps = _read_stamps(stamps_file)
    problems, changed = [], False
    for name, entry in entries.items():
        path = manifest.parent / name
        if not path.is_file():
            problems.append(f"{path} is missing: the fashion_mnist job fetches a verified copy from the sources")
            continue
        status = path.stat()
        stamp = [status.st_size, status.st_mtime_ns]
        if stamps.get(str(path)) == stamp:
            continue
        why = damage(path, entry["sha256_decompressed"])
        if why:
            problems.append(f"{path} is damaged ({why}): the fashion_mnist job replaces it with a verified "
                            "copy from the sources and keeps the files that verify")
        else:
            stamps[str(path)], changed = stamp, True
    if changed:
        write_json(stamps, stamps_file)
    return problems


def _read_stamps(stamps_file: Path) -> dict:
    try:
        return read_json(stamps_file)
    except (OSError, DamagedFileError):  # none yet, or cut short: every file is checked again
        return {}
