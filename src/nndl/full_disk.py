"""A full disk, found wherever it sits in an error's chain and said in one message: in a folder a
job writes, or under the MLflow store; and a folder this user cannot write.

Libraries rarely let an OSError through as it came: nbformat meets ENOSPC while it handles another
error, SQLAlchemy and MLflow wrap sqlite's SQLITE_FULL in their own errors, and a tracking server
answers with its database's words. Not in nndl.files, whose code is part of every run's training
fingerprint (nndl.runs.code): rewording a message here retrains nothing.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nndl.commands import shell
from nndl.errors import WriteError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


@contextmanager
def writing(folder: str | Path, then: str = "Nothing was half-written: what was being written is not "
                                            "there, and the rerun writes it.") -> Iterator[None]:
    """Turn a full disk or an unwritable folder met while writing into `folder` into one message
    that names the folder and the fix, then says `then` (WriteError). Files are written whole or
    not at all (nndl.files.atomic_path), so what was being written is simply not there."""
    try:
        yield
    except OSError as error:
        if error.errno not in NO_SPACE + NOT_WRITABLE:
            raise
        raise WriteError(f"{_cannot_write(Path(folder), error)}, then run snakemake again. {then}") from None


def check_writable(folder: str | Path, then: str) -> None:
    """WriteError, as `writing` says it, if `folder` (or the nearest folder above it that exists:
    it is made when written to) cannot be written: a read-only file system, or no permission."""
    existing = Path(folder).absolute()
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
        code = errno.EROFS if read_only else errno.EACCES
        with writing(folder, then):
            raise OSError(code, os.strerror(code), str(existing))


def _cannot_write(folder: Path, error: OSError) -> str:
    where = folder.resolve()
    if error.errno in NO_SPACE:
        why = (f"the disk holding {where} is full ({error.strerror}). Free space there ({shell('df', '-h', where)} "
               "shows how much is left; `snakemake --delete-all-output` or removing old results/runs frees it)")
    else:
        why = (f"{where} cannot be written by this user ({error.strerror}). Make it writable ({shell('ls', '-ld', where)}; "
               f"chown or chmod u+w the results folder) or run the pipeline in a folder you own")
    return why


# A full store in the words of whoever met it: sqlite3's for SQLITE_FULL, which SQLAlchemy, MLflow
# and a tracking server's answer all carry in their messages; the system's for ENOSPC and EDQUOT
# (a server's PostgreSQL says them too).
SQLITE_FULL = "database or disk is full"
FULL_WORDS = (SQLITE_FULL, os.strerror(errno.ENOSPC), os.strerror(errno.EDQUOT))


def chained(error: BaseException) -> Iterator[BaseException]:
    """`error`, then every error it was raised from (__cause__) or while handling (__context__)."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__]


def no_space_in(error: BaseException) -> OSError | None:
    """The full disk (ENOSPC, EDQUOT) in `error`'s chain, if any."""
    return next((link for link in chained(error) if isinstance(link, OSError) and link.errno in NO_SPACE), None)


def folder_of(error: OSError) -> Path | None:
    """The folder of the file `error` names (None: it names none, as a failed write() does)."""
    return Path(os.fsdecode(error.filename)).absolute().parent if error.filename else None


def no_space_message(error: OSError, folder: str | Path, then: str) -> str:
    """The message `writing` gives a full disk met while writing into `folder`: the folder,
    the fix, then `then` (what was kept)."""
    try:
        with writing(folder, then):
            raise OSError(error.errno, error.strerror)  # a copy: the error itself stays as it was raised
    except WriteError as said:
        return str(said)


def store_is_full(error: BaseException) -> bool:
    """Whether `error`, or one in its chain, is a full disk under the MLflow store (its sqlite file,
    a server's database, or its files: an OSError of our own)."""
    return no_space_in(error) is not None or any(word in str(link) for link in chained(error) for word in FULL_WORDS)


def full_store_message(uri: str, folder: str | Path | None = None) -> str:
    """One message for a full MLflow store at `uri`: which folder is full (`folder`, where a file of
    the store met it; else the sqlite file's), that nothing on disk is lost, and the fix."""
    database = Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None  # else a server
    if folder is None and database is None:
        full = (f"the MLflow server at {uri} answered that its disk is full, so it records nothing more. Its admin "
                "frees space for its store")
    else:
        folder = Path(folder or database.parent).resolve()
        in_database = database is not None and folder == database.parent.resolve()
        what = f"the MLflow store {database} is full (sqlite: {SQLITE_FULL})" if in_database \
            else f"the MLflow store's files in {folder} is full ({os.strerror(errno.ENOSPC)})"
        full = (f"the disk holding {what}, so the store records nothing more. Free space there "
                f"({shell('df', '-h', folder)} shows how much is left)")
    return (f"{full}, then run snakemake again. Nothing on disk is lost: the runs' files are complete and kept "
            "(results/runs), and the rerun records in the store what it lacks, from those files, without training.")
