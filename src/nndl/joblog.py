"""Logging for Snakemake jobs: details go to the job's log file, errors also reach the console."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from nndl.errors import NndlError
from nndl.interrupt import Terminated


@contextmanager
def job_log(path: str | Path) -> Iterator[TextIO]:
    """Send stderr to `path` for the duration; on failure, print the reason to the console too.

    A user error (NndlError) prints its message alone, which says what to fix; anything else
    prints the traceback. Either way the job exits non-zero.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    console = sys.stderr
    with open(path, "w", encoding="utf-8", buffering=1) as log:
        sys.stderr = log
        try:
            yield log
        except NndlError as error:
            message = f"ERROR: {error}"
            print(message, file=log)
            print(f"{message}\n(full log: {path})", file=console, flush=True)
            raise SystemExit(1) from None
        except (KeyboardInterrupt, Terminated) as stop:
            message = (f"stopped on request ({stop or 'Ctrl-C'}): the run in training is dropped (no record, no MLflow "
                       "run), complete runs are kept; run the same command again to go on")
            print(message, file=log)
            print(f"{message} (full log: {path})", file=console, flush=True)
            raise SystemExit(1) from None
        except BaseException:
            details = traceback.format_exc()
            print(details, file=log)
            print(f"{details}(full log: {path})", file=console, flush=True)
            raise
        finally:
            sys.stderr = console
