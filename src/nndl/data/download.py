"""Download one file from a list of mirrors: retries, a progress display, verify, rename into place."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from nndl.errors import DataError
from nndl.files import atomic_path

CHUNK_BYTES = 1 << 16


class _Truncated(OSError):
    pass


def _fetch(url: str, destination: Path, timeout_s: float, progress: TextIO) -> None:
    """Stream `url` into `destination`, printing progress about every 10 %."""
    request = urllib.request.Request(url, headers={"User-Agent": "nndl"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response, open(destination, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        received, next_report = 0, 0.1
        while chunk := response.read(CHUNK_BYTES):
            out.write(chunk)
            received += len(chunk)
            if total and received / total >= next_report:
                print(f"    {received / 1e6:6.1f} / {total / 1e6:.1f} MB ({received / total:4.0%})",
                      file=progress, flush=True)
                next_report += 0.1
        if total and received != total:
            raise _Truncated(f"connection closed after {received} of {total} bytes")


def _attempt(url: str, destination: Path, verify: Callable[[Path], None], timeout_s: float, progress: TextIO,
             failures: list[str], attempt: int) -> str:
    """One download of `url`: 'done', 'next mirror' (it will not get better) or 'retry'; a failure
    is appended to `failures`."""
    try:
        with atomic_path(destination) as temporary:
            _fetch(url, temporary, timeout_s, progress)
            verify(temporary)
        return "done"
    except DataError as error:  # corrupt content: this mirror will not get better
        failures.append(f"{url}: {error}")
        print(f"  {url}: {error}\n  trying the next mirror", file=progress, flush=True)
        return "next mirror"
    except urllib.error.HTTPError as error:
        failures.append(f"{url}: HTTP {error.code} {error.reason}")
        return "next mirror" if error.code < 500 else "retry"
    except (urllib.error.URLError, OSError) as error:  # refused, timeout, reset, truncated
        failures.append(f"{url}: {getattr(error, 'reason', error)} (attempt {attempt})")
        return "retry"


def download(
    urls: Sequence[str],
    destination: str | Path,
    verify: Callable[[Path], None],
    retries: int = 3,
    timeout_s: float = 60.0,
    backoff_s: float = 1.0,
    progress: TextIO = sys.stderr,
) -> str:
    """Download the first URL that yields a file passing `verify`; return that URL.

    Network errors and truncated transfers are retried `retries` times per mirror (with a growing
    pause); a 4xx answer or a file that fails `verify` moves on to the next mirror at once. Nothing
    is left at `destination` unless a download succeeded and verified.
    """
    destination = Path(destination)
    failures: list[str] = []
    for url in urls:
        for attempt in range(1, retries + 1):
            print(f"  downloading {url} (attempt {attempt}/{retries})", file=progress, flush=True)
            outcome = _attempt(url, destination, verify, timeout_s, progress, failures, attempt)
            if outcome == "done":
                return url
            if outcome == "next mirror":
                break
            if attempt < retries:
                time.sleep(backoff_s * attempt)
    raise DataError(
        f"could not download {destination.name} from any mirror:\n  " + "\n  ".join(failures)
    )
