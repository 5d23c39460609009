"""Whether a file holds the data it should: the SHA-256 of its *decompressed* bytes, because Debian
recompressed the .gz files (same data, other .gz bytes) and a checksum of the .gz would refuse the
real data. Compressed or not is told by a file's first bytes, not its name, so a file unpacked with
zcat reads whatever it is called. One verifier for the data step and the workflow's check."""

from __future__ import annotations

import gzip
from pathlib import Path

from nndl.data.fashion_mnist import IdxFile
from nndl.errors import DataError
from nndl.files import sha256_bytes

GZIP_MAGIC = b"\x1f\x8b"


def gunzip(raw: bytes) -> bytes | None:
    """The bytes inside gzip-compressed `raw`; None when `raw` is not gzip. A gzip file cut short
    or corrupted raises OSError or EOFError."""
    return gzip.decompress(raw) if raw[:2] == GZIP_MAGIC else None


def idx_bytes(raw: bytes, name: str, source: str) -> tuple[bytes, bool]:
    """(the IDX bytes of a file's content `raw`, whether it was gzip-compressed); DataError naming
    the file and its source when it is gzip but cannot be decompressed."""
    try:
        data = gunzip(raw)
    except (OSError, EOFError) as error:
        raise DataError(f"{name} from {source} is not a complete gzip file ({error}): "
                        "it is truncated or corrupted; replace or delete it.") from error
    return (raw, False) if data is None else (data, True)


def check_bytes(data: bytes, spec: IdxFile, source: str) -> None:
    """Raise DataError naming the file, its source and both hashes unless `data` is the real file's."""
    actual = sha256_bytes(data)
    if actual != spec.sha256:
        raise DataError(
            f"{spec.name} from {source} failed verification:\n"
            f"  SHA-256 of its decompressed bytes is {actual}\n"
            f"  expected                            {spec.sha256}\n"
            f"The file is corrupted, truncated or not Fashion-MNIST: replace or delete it."
        )


def damage(path: Path, sha256: str) -> str | None:
    """Why `path`, a file of a verified copy (always gzip-compressed there), is not the file whose
    decompressed bytes have `sha256`; None when it is."""
    try:
        data = gunzip(path.read_bytes())
    except (OSError, EOFError) as error:
        return f"cannot decompress: {error}"
    if data is None:
        return "not gzip-compressed"
    actual = sha256_bytes(data)
    if actual == sha256:
        return None
    return f"SHA-256 of its decompressed bytes is {actual[:12]}..., expected {sha256[:12]}..."
