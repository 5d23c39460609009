"""Logging for Snakemake jobs: details go to the job's log file, errors also reach the console."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from nndl import heap
from nndl.errors import NndlError
from nndl.full_disk import folder_of, full_store_message, no_space_in, no_space_message, store_is_full
from nndl.interrupt import Terminated, signal_name, what_it_was_doing

MLFLOW_DATABASE_LOGGER = "mlflow.store.db.utils"  # where MLflow logs its database errors
# What a job that met a full disk kept: it writes each file whole or not at all (nndl.files.atomic_path).
KEPT = ("Nothing was half-written: what this job was writing is not there, and everything written before "
        "(complete runs, other results) is kept; the rerun writes the rest.")


@contextmanager
def job_log(path: str | Path, writes: Iterable[str | Path] = ()) -> Iterator[TextIO]:
    """Send stderr to `path` for the duration; on failure, print the reason to the console too.

    A user error (NndlError) prints its message alone, which says what to fix; so do a stop (Ctrl-C,
    SIGTERM, SIGHUP: the signal, and the run in training or that none was) and a full disk met
    anywhere, even deep in a library (the error's chain): the MLflow store's (its folder; the runs'
    files are kept), or the folder being written: the file's, else that of `writes` (the job's
    outputs, whose errors may name no file). Anything else prints the traceback. Either way the
    job exits non-zero.

    What the job's process holds when the job starts (its script's imports) and when it ends is
    frozen out of the collector's reach (nndl.heap): its full collections and the interpreter's
    exit do not walk it again.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    console = sys.stderr
    _quiet_full_store_logs()
    heap.loaded()
    with open(path, "w", encoding="utf-8", buffering=1) as log:
        sys.stderr = log
        try:
            yield log
        except NndlError as error:
            _fail(f"ERROR: {error}", log, console, path)
        except (KeyboardInterrupt, Terminated) as stop:
            _fail(_stopped(stop), log, console, path)
        except BaseException as error:
            said = _full_disk(error, writes)
            if said is not None:
                _fail(f"ERROR: {said}", log, console, path)
            details = traceback.format_exc()
            print(details, file=log)
            print(f"{details}(full log: {path})", file=console, flush=True)
            raise
        finally:
            sys.stderr = console
            heap.loaded()


def _fail(message: str, log: TextIO, console: TextIO, path: Path) -> None:
    print(message, file=log)
    print(f"{message}\n(full log: {path})", file=console, flush=True)
    raise SystemExit(1) from None


def _stopped(stop: BaseException) -> str:
    """The one line a stopped job ends with: the signal, and the run it dropped or that none was
    in training (and what the job was doing instead, where it said: nndl.interrupt.doing)."""
    doing = what_it_was_doing(stop)
    if doing is not None and doing.training:
        what = f"while training {doing.training}: that run is dropped (no record, no MLflow run)"
    elif doing is not None:
        what = f"while {doing.what}, no run in training: nothing is dropped"
    else:
        what = "with no run in training: what the job was writing is not there (files are written whole or not at all)"
    return (f"stopped on request ({signal_name(stop)}) {what}; complete runs are kept. Run the same command again "
            "to go on")


def _full_disk(error: BaseException, writes: Iterable[str | Path]) -> str | None:
    """The one message for a full disk in `error`'s chain (see job_log), or None."""
    full = no_space_in(error)
    if full is not None:
        return no_space_message(full, _written_folder(full, writes), KEPT)
    if store_is_full(error):
        # A job finds the store in MLFLOW_TRACKING_URI, which the workflow sets (nndl.tracking.uri).
        return full_store_message(os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}")
    return None


def _written_folder(full: OSError, writes: Iterable[str | Path]) -> Path:
    """The folder a full disk stopped a write in: the file's that the error names; else the
    folder holding all of the job's outputs; else the working directory."""
    folders = [str(Path(output).absolute().parent) for output in writes]
    return folder_of(full) or (Path(os.path.commonpath(folders)) if folders else Path.cwd())


class _FullStoreSaidOnce(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and record.exc_info[1] is not None and store_is_full(record.exc_info[1]))


def _quiet_full_store_logs() -> None:
    """Keep MLflow's own traceback for a full store out of the job's log: MLflow logs one for each
    failed call before it raises (a chunk job's log held 848 lines of them), and the job says it
    once, in its own words (nndl.full_disk.full_store_message)."""
    logger = logging.getLogger(MLFLOW_DATABASE_LOGGER)
    if not any(isinstance(existing, _FullStoreSaidOnce) for existing in logger.filters):
        logger.addFilter(_FullStoreSaidOnce())
