"""Acquire the four Fashion-MNIST files and verify them.

A file already verified in the destination is kept; each other one comes from the sources, in
order: a directory the user names, the system copy from Debian's package `dataset-fashion-mnist`,
then download mirrors. A folder may hold a file gzip-compressed (name.gz) or not (name); the
destination holds it gzip-compressed. Every file is verified (nndl.data.verify) before it replaces
one in the destination.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from nndl.data.download import download
from nndl.data.fashion_mnist import FILE_NAMES, FILES, IdxFile
from nndl.data.verify import check_bytes, damage, idx_bytes
from nndl.errors import DataError
from nndl.files import atomic_path

# Where Debian's dataset-fashion-mnist puts the files (also the schema's default system_dir; a test
# keeps the two in step).
DEBIAN_COPY = "/usr/share/datasets/fashion-mnist"


def how_to_fix(system_dir: str | None) -> str:
    """The ways to get the data, the system copy's said as it stands: not installed, or installed
    but switched off in the config."""
    installed = all((Path(DEBIAN_COPY) / name).is_file() for name in FILE_NAMES)
    if installed and not system_dir:
        system = (f"  - use Debian's copy, installed here but switched off in the config "
                  f"(data.fashion_mnist.system_dir: null): set system_dir: {DEBIAN_COPY}")
    elif installed and Path(system_dir) != Path(DEBIAN_COPY):
        system = f"  - point data.fashion_mnist.system_dir at Debian's copy, installed here: {DEBIAN_COPY}"
    elif Path(DEBIAN_COPY).exists():
        system = "  - install Debian's copy again: sudo apt-get install --reinstall dataset-fashion-mnist"
    else:
        system = "  - install Debian's copy: sudo apt-get install dataset-fashion-mnist"
    return ("How to fix, any one of:\n" + system + "\n"
            "  - put the four files (gzip-compressed or not) in a folder and set data.fashion_mnist.local_dir to it\n"
            "  - give this machine network access to one of data.fashion_mnist.mirrors")


def verify_file(path: Path, spec: IdxFile, source: str) -> None:
    """Raise DataError naming the file, its source and both hashes unless `path` is the real file,
    gzip-compressed (a download: the mirrors serve .gz files)."""
    data, compressed = idx_bytes(path.read_bytes(), f"{spec.name}.gz", source)
    if not compressed:
        raise DataError(f"{spec.name}.gz from {source} is not gzip-compressed: not the mirror's file.")
    check_bytes(data, spec, source)


def _copy_verified(candidate: Path, target: Path, spec: IdxFile, source: str) -> None:
    """Put `candidate`'s data at `target`, gzip-compressed, once it passed verification: the bytes
    verified are the bytes written."""
    raw = candidate.read_bytes()
    data, compressed = idx_bytes(raw, candidate.name, source)
    check_bytes(data, spec, source)
    with atomic_path(target) as temporary:
        temporary.write_bytes(raw if compressed else gzip.compress(data, compresslevel=6, mtime=0))


def _kept(target: Path, spec: IdxFile, log: TextIO) -> bool:
    """Whether `target` is already a verified copy (a rerun of the data step keeps what is good);
    another file there is said and replaced from the sources."""
    if not target.is_file():
        return False
    why = damage(target, spec.sha256)
    if why:
        print(f"{target.name}: the file in {target.parent} is not the verified one ({why}); replacing it "
              "from the sources", file=log, flush=True)
    return not why


def acquire(
    destination: str | Path,
    local_dir: str | None,
    system_dir: str | None,
    mirrors: Sequence[str],
    retries: int = 3,
    timeout_s: float = 60.0,
    log: TextIO = sys.stderr,
) -> dict:
    """Put the four verified .gz files in `destination`; return a manifest of where each came from
    (the file itself, for one kept from an earlier run) and its checksum.

    A missing file moves on to the next source; a file that is present but fails verification in a
    folder the user named is an error, not something to skip silently.
    """
    manifest: dict[str, dict] = {}
    for spec in FILES.values():
        target = Path(destination) / f"{spec.name}.gz"
        if _kept(target, spec, log):
            manifest[target.name] = {"source": str(target), "sha256_decompressed": spec.sha256}
            print(f"{target.name}: verified, kept (sha256 {spec.sha256[:12]}...)", file=log, flush=True)
            continue
        tried: list[str] = []
        source = (_copy_from_folders(spec, target, local_dir, system_dir, tried, log)
                  or _download_from_mirrors(spec, target, mirrors, retries, timeout_s, tried, log))
        if source is None:
            raise DataError(
                f"Fashion-MNIST file {target.name} could not be found in any source. Tried:\n  - "
                + "\n  - ".join(tried) + "\n" + how_to_fix(system_dir)
            )
        manifest[target.name] = {"source": source, "sha256_decompressed": spec.sha256}
        print(f"{target.name}: verified (sha256 {spec.sha256[:12]}...)", file=log, flush=True)
    return manifest


def _copy_from_folders(spec: IdxFile, target: Path, local_dir: str | None, system_dir: str | None,
                       tried: list[str], log: TextIO) -> str | None:
    """Copy and verify the file from the first folder that has it, compressed (name.gz) or not
    (name); return its path, or None."""
    for label, folder, unset in (("data.fashion_mnist.local_dir", local_dir, "not set"),
                                 ("the system copy (data.fashion_mnist.system_dir)", system_dir,
                                  "switched off (null in the config)")):
        if not folder:
            tried.append(f"{label}: {unset}")
            continue
        candidates = [Path(folder) / f"{spec.name}.gz", Path(folder) / spec.name]
        candidate = next((path for path in candidates if path.is_file()), None)
        if candidate is None:
            tried.append(f"{label}: {candidates[0]} does not exist, nor {candidates[1].name}"
                         f"{_similar_names(Path(folder), spec)}")
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
    if not similar:
        return ""
    wanted = f"{spec.name}.gz" if similar[0].endswith(".gz") else spec.name
    return f"; similar names there: {', '.join(similar)} (rename to {wanted})"


def prepare(folder: str | Path, source: dict, log: TextIO = sys.stderr) -> dict:
    """What the data rule does with `data.fashion_mnist`: generate the small stand-in when the
    config asks for one, else acquire and verify the real files. Returns the manifest."""
    if source["generate"]:
        from nndl.data.stand_in import generate_stand_in

        stand_in = source["generate"]  # {train, test, seed}, the seed filled in by the schema
        return generate_stand_in(folder, stand_in["train"], stand_in["test"], stand_in["seed"])
    return acquire(folder, source["local_dir"], source["system_dir"], source["mirrors"],
                   retries=source["retries"], timeout_s=source["timeout_s"], log=log)
