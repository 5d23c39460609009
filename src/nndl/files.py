"""Small file helpers: nothing half-written, ever.

Every output goes to a temporary name in the same folder and is renamed into place only when it is
complete, so an interrupted job never leaves a file that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nndl.errors import DamagedFileError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    temporary = Path(temporary)
    os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; give outputs the usual permissions
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes(data: bytes, path: str | Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def torch_save(obj: Any, path: str | Path) -> None:
    """torch.save, atomically and byte-reproducibly (torch names its archive after the file, so
    saving to the temporary name directly would put a random name inside)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(buffer.getvalue(), path)


def write_json(data: Any, path: str | Path) -> None:
    write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", path)


def read_json(path: str | Path) -> Any:
    """The file's JSON; DamagedFileError naming the file and the fix when it is not JSON."""
    with open(path, encoding="utf-8") as handle:
        try:
            return json.load(handle)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DamagedFileError(
                f"{path} is damaged ({error}). Delete it and run snakemake again: the pipeline makes it "
                "again (a run's file: that run is trained again, and its MLflow run replaced)."
            ) from error


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def touch_old(path: str | Path) -> None:
    """Make `path` an empty file dated 1970: a check input that never makes a job rerun by itself
    (nndl.runs.checks, nndl.data.checks rewrite it when it must)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (0, 0))
