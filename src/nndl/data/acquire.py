"""Acquire the four Fashion-MNIST files and verify them.

Sources are tried in order: a directory the user names, the system copy from Debian's package
`dataset-fashion-mnist`, then download mirrors. Every file is verified by the SHA-256 of its
*decompressed* bytes, because Debian recompressed the .gz files (same data, other .gz bytes): a
checksum of the .gz would refuse the real data.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from nndl.data.download import download
from nndl.data.fashion_mnist import FILES, IdxFile
from nndl.errors import DataError
from nndl.files import atomic_path, sha256_bytes

HOW_TO_FIX = (
    "How to fix, any one of:\n"
    "  - install Debian's copy: sudo apt-get install dataset-fashion-mnist\n"
    "  - put the four .gz files in a folder and set data.fashion_mnist.local_dir to it\n"
    "  - give this machine network access to one of data.fashion_mnist.mirrors"
)


def verify_file(path: Path, spec: IdxFile, source: str) -> None:
    """Raise DataError naming the file, its source and both hashes unless `path` is the real file."""
    try:
        with gzip.open(path, "rb") as handle:
            actual = sha256_bytes(handle.read())
    except (OSError, EOFError) as error:
        raise DataError(
            f"{spec.name}.gz from {source} is not a complete gzip file ({error}): "
            f"it is truncated or corrupted; replace or delete it."
        ) from error
    if actual != spec.sha256:
        raise DataError(
            f"{spec.name}.gz from {source} failed verification:\n"
            f"  SHA-256 of its decompressed bytes is {actual}\n"
            f"  expected                            {spec.sha256}\n"
            f"The file is corrupted, truncated or not Fashion-MNIST: replace or delete it."
        )


def _copy_verified(candidate: Path, target: Path, spec: IdxFile, source: str) -> None:
    with atomic_path(target) as temporary:
        shutil.copyfile(candidate, temporary)
        verify_file(temporary, spec, source)


def acquire(
    destination: str | Path,
    local_dir: str | None,
    system_dir: str | None,
    mirrors: Sequence[str],
    retries: int = 3,
    timeout_s: float = 60.0,
    log: TextIO = sys.stderr,
) -> dict:
    """Put the four verified .gz files in `destination`; return a manifest of where each came from.

    A missing file moves on to the next source; a file that is present but fails verification in a
    folder the user named is an error, not something to skip silently.
    """
    manifest: dict[str, dict] = {}
    for spec in FILES.values():
        target = Path(destination) / f"{spec.name}.gz"
        tried: list[str] = []
        source = (_copy_from_folders(spec, target, local_dir, system_dir, tried, log)
                  or _download_from_mirrors(spec, target, mirrors, retries, timeout_s, tried, log))
        if source is None:
            raise DataError(
                f"Fashion-MNIST file {target.name} could not be found in any source. Tried:\n  - "
                + "\n  - ".join(tried) + "\n" + HOW_TO_FIX
            )
        manifest[target.name] = {"source": source, "sha256_decompressed": spec.sha256}
        print(f"{target.name}: verified (sha256 {spec.sha256[:12]}...)", file=log, flush=True)
    return manifest


def _copy_from_folders(spec: IdxFile, target: Path, local_dir: str | None, system_dir: str | None,
                       tried: list[str], log: TextIO) -> str | None:
    """Copy and verify the file from the first folder that has it; return its path, or None."""
    for label, folder in (("data.fashion_mnist.local_dir", local_dir),
                          ("the system copy (data.fashion_mnist.system_dir)", system_dir)):
        if not folder:
            continue
        candidate = Path(folder) / target.name
        if not candidate.is_file():
            tried.append(f"{label}: {candidate} does not exist{_similar_names(Path(folder), spec)}")
            continue
        print(f"{target.name}: copying from {candidate}", file=log, flush=True)
        _copy_verified(candidate, target, spec, source=f"{label} ({candidate})")
        return str(candidate)
    return None


def _download_from_mirrors(spec: IdxFile, target: Path, mirrors: Sequence[str], retries: int,
                           timeout_s: float, tried: list[str], log: TextIO) -> str | None:
    """Download and verify the file from the first mirror that has it; return its URL, or None."""
    if not mirrors:
        tried.append("download: data.fashion_mnist.mirrors is empty")
        return None
    print(f"{target.name}: not found locally, downloading", file=log, flush=True)
    urls = [mirror.rstrip("/") + "/" + target.name for mirror in mirrors]
    try:
        return download(urls, target, lambda path: verify_file(path, spec, "download"),
                        retries=retries, timeout_s=timeout_s, progress=log)
    except DataError as error:
        tried.append(f"download mirrors: {error}")
        return None


def _similar_names(folder: Path, spec: IdxFile) -> str:
    """Point at a file that is probably the right one under a wrong name."""
    if not folder.is_dir():
        return " (the folder does not exist)"
    stem = spec.name.split("-")[0]  # train / t10k
    kind = "images" if "images" in spec.name else "labels"
    similar = sorted(p.name for p in folder.iterdir() if stem in p.name and kind in p.name)
    return f"; similar names there: {', '.join(similar)} (rename to {spec.name}.gz)" if similar else ""


def prepare(folder: str | Path, source: dict, log: TextIO = sys.stderr) -> dict:
    """What the data rule does with `data.fashion_mnist`: generate the small stand-in when the
    config asks for one, else acquire and verify the real files. Returns the manifest."""
    if source["generate"]:
        from nndl.data.stand_in import generate_stand_in

        spec = source["generate"]
        return generate_stand_in(folder, spec["train"], spec["test"], spec.get("seed", 0))
    return acquire(folder, source["local_dir"], source["system_dir"], source["mirrors"],
                   retries=source["retries"], timeout_s=source["timeout_s"], log=log)
