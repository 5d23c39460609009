"""The signal dispositions a test about signals sets, instead of assuming a terminal's.

A shell that is not interactive starts a background job (`make test &` in a script, a CI step)
with SIGINT and SIGQUIT ignored, `nohup` ignores SIGHUP, every process started from there inherits
that, and Python installs no KeyboardInterrupt handler for a SIGINT ignored at its start.
A test that sends a signal therefore sets what it tests: in its own process with `interruptible`,
in the processes it starts with `as_in_a_terminal` (their own children, Snakemake's jobs, inherit
it from them), and it can check a process with `ignored`."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nndl.interrupt import STOPPING  # what stops a job


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in this process for the block, as in a terminal's
    foreground job; the disposition found is put back afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def as_in_a_terminal() -> None:
    """For subprocess.Popen's preexec_fn (it runs after start_new_session's setsid): SIGINT,
    SIGQUIT, SIGTERM and SIGHUP at their defaults in the child, as a terminal's foreground job has
    them, so that Python there installs its KeyboardInterrupt handler."""
    for signum in (*STOPPING, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


def ignored(pid: int) -> list[signal.Signals]:
    """The stopping signals that process `pid` ignores now (its SigIgn mask in /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    (mask,) = [int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigIgn:")]
    return [signum for signum in STOPPING if mask >> (signum - 1) & 1]
