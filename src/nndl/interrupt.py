"""Signals that stop a run: Ctrl-C (SIGINT), SIGTERM (Snakemake, a cluster's time limit, `kill`)
and SIGHUP (a closed terminal, a dropped ssh session) all stop it the same way, through an
exception, so that every `finally` runs: the run being trained is dropped, complete runs keep
their record, and Snakemake releases its lock. Python's default for SIGTERM and SIGHUP ends the
process at once, running nothing."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM or SIGHUP (BaseException: never swallowed)."""

    def __init__(self, signum: int):
        super().__init__(f"received signal {signal.Signals(signum).name}")
        self.signum = signum


def _raise_terminated(signum, frame):
    raise Terminated(signum)


def _raise_interrupt(signum, frame):
    stop = KeyboardInterrupt(f"received signal {signal.Signals(signum).name}")
    stop.signum = signum
    raise stop


def signal_name(stop: BaseException) -> str:
    """The signal that raised `stop` (Terminated, KeyboardInterrupt), named for a person: a
    KeyboardInterrupt Python raised itself carries nothing, and is Ctrl-C's SIGINT."""
    signum = getattr(stop, "signum", signal.SIGINT)
    name = signal.Signals(signum).name
    return f"{name} (Ctrl-C)" if signum == signal.SIGINT else name


@dataclass(frozen=True)
class Doing:
    """What a job was doing when a stopping signal came, for the line it ends with (nndl.joblog)."""

    what: str  # 'waiting for the MLflow store to record the runs'
    training: str | None = None  # the run in training then, by name: it is dropped


@contextmanager
def doing(what: str, training: str | None = None) -> Iterator[None]:
    """Mark a stop (Ctrl-C, SIGTERM, SIGHUP) raised in the block with what the job was doing, and
    the run it was training if any; the innermost block's mark is kept."""
    try:
        yield
    except (KeyboardInterrupt, Terminated) as stop:
        if getattr(stop, "doing", None) is None:
            stop.doing = Doing(what, training)
        raise


def what_it_was_doing(stop: BaseException) -> Doing | None:
    """What `stop` found the job doing (`doing`), if a block said."""
    return getattr(stop, "doing", None)


def terminate_on_signals() -> dict:
    """In a job: SIGTERM and SIGHUP raise Terminated (Ctrl-C raises KeyboardInterrupt already).
    Returns the handlers it replaced."""
    return {signum: signal.signal(signum, _raise_terminated) for signum in (signal.SIGTERM, signal.SIGHUP)}


def hang_up_as_interrupt() -> None:
    """In Snakemake's own process: SIGHUP acts as Ctrl-C (Snakemake stops its jobs, removes their
    unfinished outputs and releases its lock). Only the main thread may set handlers."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, _raise_interrupt)


def ignoring_signals() -> dict:
    """Ignore the stopping signals (for a last short wait after one arrived); returns the handlers
    it replaced, for `restore`."""
    return {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOPPING}


def restore(handlers: dict) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP back for the block and act on the first right after it (even
    if the block failed): a run's record and the end of its MLflow run go together or not at all.
    Python-level handlers that only take note: a signal mask would not do, since the kernel may
    deliver the signal to one of torch's or MLflow's threads."""
    held: list[int] = []
    previous = {signum: signal.signal(signum, lambda received, frame: held.append(received)) for signum in STOPPING}
    try:
        yield
    finally:
        restore(previous)
        if held:
            os.kill(os.getpid(), held[0])  # now delivered to the handlers restored above
