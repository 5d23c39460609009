"""Read and write the IDX format that (Fashion-)MNIST ships in, gzip-compressed or not.

An IDX file is: two zero bytes, a dtype code (0x08 = uint8), the number of dimensions, then one
big-endian uint32 per dimension, then the data in C order.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

UINT8_CODE = 0x08
_HEADER = struct.Struct(">HBB")


def _open_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError) as error:  # gzip raises BadGzipFile (an OSError) or EOFError
        raise ValueError(f"{path}: cannot decompress ({error})") from error


def parse_idx(raw: bytes, name: str = "<bytes>", expected_ndim: int | None = None) -> np.ndarray:
    """Parse IDX bytes into a uint8 array, checking the magic number and the length."""
    if len(raw) < _HEADER.size:
        raise ValueError(f"{name}: {len(raw)} bytes is too short for an IDX header")
    zeros, dtype_code, ndim = _HEADER.unpack_from(raw)
    if zeros != 0 or dtype_code != UINT8_CODE or ndim == 0:
        magic = int.from_bytes(raw[:4], "big")
        raise ValueError(
            f"{name}: bad magic number 0x{magic:08x}; an IDX uint8 file starts with "
            f"0x0000080N (N = number of dimensions)"
        )
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(f"{name}: has {ndim} dimensions, expected {expected_ndim}")
    dims_end = _HEADER.size + 4 * ndim
    if len(raw) < dims_end:
        raise ValueError(f"{name}: truncated inside the header ({len(raw)} bytes)")
    shape = struct.unpack_from(f">{ndim}I", raw, _HEADER.size)
    expected_length = dims_end + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected_length:
        raise ValueError(
            f"{name}: wrong length: header says shape {tuple(shape)} = {expected_length} bytes, "
            f"file has {len(raw)} (truncated or padded)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=dims_end).reshape(shape)


def read_idx(path: str | Path, expected_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (.gz or plain) into a uint8 array."""
    path = Path(path)
    return parse_idx(_open_bytes(path), name=str(path), expected_ndim=expected_ndim)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX bytes."""
    if array.dtype != np.uint8:
        raise TypeError(f"IDX encoding supports uint8 only, got {array.dtype}")
    header = _HEADER.pack(0, UINT8_CODE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx_gz(array: np.ndarray, path: str | Path) -> None:
    """Write a uint8 array as a gzip-compressed IDX file, byte-identical for the same array."""
    # mtime=0 keeps the gzip header free of timestamps: same array, same bytes.
    with open(path, "wb") as raw_handle, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw_handle, mtime=0
    ) as handle:
        handle.write(encode_idx(array))
