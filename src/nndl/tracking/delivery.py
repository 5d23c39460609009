"""A chunk job's MLflow calls, sent in the background, so training never waits on the store: a
slow or absent server delays the record, never the run or its files.

Each run's calls go in order through one lane (a queue and its thread); runs go side by side in
several lanes against a server, which answers one call in about 0.2 s but four at once in about
0.05 s each (measured against scripts/mlflow-server.sh), and through one lane into any other store
(a local sqlite file, where concurrent writers would only wait on its lock). Each call is tried again until it goes
through (MLflow's own retries first, then ours every RETRY_SECONDS), so an outage is ridden out;
the job decides at its end how long to wait for the rest (`wait`). A call the store refuses for
good (no permission, a deleted experiment, a bad value) stops the delivery at once: the calls
still queued are dropped (those of the same run could only fail after it: no run id), `wait`
returns, and the job stops at its next check (`raise_if_refused`) with one message saying what
was refused and the fix. So does a full disk under the store (nndl.full_disk): freeing
space takes a person, and each retry would only log the same error again. One that lost a race to
create the same row (CONFLICT) is tried again.

Kept instead of MLflow's own asynchronous logging, which covers metrics, params and tags but not
the run's creation, its artifacts, its model or its end, and which was measured sending one batch
per call (1500 epochs x 5 metrics: 20 s to flush on sqlite, against one batch per FLUSH_SECONDS here).
"""

from __future__ import annotations

import queue
import re
import threading
import time
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlflow.exceptions import MlflowException

from nndl.errors import TrackingError
from nndl.full_disk import folder_of, full_store_message, no_space_in, store_is_full
from nndl.tracking.probe import deleted_experiment, may_not_write
from nndl.tracking.uri import is_server

# Errors that no retry mends: the call itself is wrong, or this user may not make it.
REFUSED_CODES = {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "RESOURCE_DOES_NOT_EXIST", "PERMISSION_DENIED",
                 "UNAUTHENTICATED", "INVALID_STATE"}
DELETED_EXPERIMENT = re.compile(r"The experiment \S+ must be in the 'active' state")  # MLflow's words for it
ALREADY_DONE = "RESOURCE_ALREADY_EXISTS"  # a call retried after the store took it, but before it answered
# Two calls that create the same row at once (two runs logging one dataset: MLflow looks it up,
# then inserts it): the later one fails on the database's unique key, as BAD_REQUEST, and goes
# through when tried again, finding the row. Measured: 4 runs logging a new dataset at once into
# sqlite failed 11 times in 10 tries; PostgreSQL behind the team server fails the same way.
CONFLICT = re.compile(r"IntegrityError|UniqueViolation|unique constraint|Duplicate entry", re.IGNORECASE)
CONFLICT_ATTEMPTS = 5  # a key that still clashes after these is a real error, reported as refused
SERVER_LANES = 4
STORE_FULL = "STORE_FULL"  # a Refusal's code for a full disk under the store (ours: MLflow has none)


@dataclass(frozen=True)
class Refusal:
    """A call the store refused for good."""

    what: str  # 'softmax-scratch-seed0: create the run'
    code: str  # MLflow's error code: PERMISSION_DENIED, UNAUTHENTICATED, INVALID_PARAMETER_VALUE, ...; STORE_FULL
    message: str
    full_folder: Path | None = None  # STORE_FULL: the folder of the store's file that met it (None: the store's own)


class Delivery:
    RETRY_SECONDS = 2.0

    def __init__(self, lanes: int = 1):
        self.lanes = [_Lane(self, number) for number in range(lanes)]
        self.lane_of: dict[str, _Lane] = {}  # {owner: its lane}, in the order owners first sent
        self.unsent: dict[str, int] = {}  # {owner: its calls not yet through}
        self.refusal: Refusal | None = None  # the first call the store refused for good: all stop
        self.last_error: str | None = None  # the latest error a call met, for the job's message
        self.answered_at: float | None = None  # when a call last went through (time.monotonic)
        self.unfinished = 0
        self.in_flight = 0  # calls being sent now (not those dropped after a refusal)
        self.done = threading.Condition()

    @classmethod
    def for_store(cls, uri: str) -> Delivery:
        return cls(SERVER_LANES if is_server(uri) else 1)

    def send(self, owner: str, what: str, call: Callable[[], None]) -> None:
        """Queue `call`, made for `owner` (a run's name; `what` names the call in messages), after
        the owner's earlier calls; returns at once."""
        with self.done:
            self.unfinished += 1
            self.unsent[owner] = self.unsent.get(owner, 0) + 1
            lane = self.lane_of.setdefault(owner, self.lanes[len(self.lane_of) % len(self.lanes)])
        lane.calls.put((owner, what, call))

    def behind(self) -> list[str]:
        """The owners of the calls not yet through, in the order they first sent."""
        with self.done:
            return [owner for owner in self.lane_of if self.unsent[owner]]

    def wait(self, timeout_s: float) -> bool:
        """Wait until every queued call went through, or one was refused and the rest are dropped
        (but those still being sent), at most `timeout_s`. A job that exits at once after a refusal
        must not leave a lane dropping calls: a dropped call frees its run's tensors, and a thread
        freeing a tensor while Python shuts down aborts the process (torch's C++ destructor)."""
        with self.done:
            return self.done.wait_for(lambda: self.unfinished == 0 or (
                self.refusal is not None and self.unfinished == self.in_flight), timeout_s)

    def last_word(self) -> str:
        """What the store last said, for the job's message when it did not keep up: the last error a
        call met; else that it never answered a call (a server down from the start: MLflow's own
        retries were still waiting); else how long ago it last answered, with no error since."""
        if self.last_error is not None:
            return f"last error: {self.last_error}"
        if self.answered_at is None:
            return "the store never answered a call"
        return f"no error; the store last answered {time.monotonic() - self.answered_at:.0f} s before"

    def raise_if_refused(self, uri: str, experiment: str, experiment_id: str) -> None:
        """TrackingError saying what the store refused, and the fix, if it refused a call."""
        if self.refusal is not None:
            raise TrackingError(refused_message(uri, experiment, experiment_id, self.refusal))

    def _finished_one(self, owner: str, sent: bool) -> None:
        with self.done:
            self.unfinished -= 1
            self.in_flight -= sent
            self.unsent[owner] -= 1
            self.done.notify_all()

    def _deliver(self, what: str, call: Callable[[], None]) -> None:
        conflicts = 0
        while True:
            try:
                call()
                self.answered_at = time.monotonic()
                return
            except MlflowException as error:
                if error.error_code == ALREADY_DONE:
                    self.answered_at = time.monotonic()
                    return
                if error.error_code == "BAD_REQUEST" and CONFLICT.search(error.message):
                    conflicts += 1
                    if conflicts < CONFLICT_ATTEMPTS:
                        continue  # the other call's row is there now
                if store_is_full(error):
                    return self._refuse(_store_full(what, error))
                if error.error_code in REFUSED_CODES:
                    return self._refuse(Refusal(what, error.error_code, _first_line(error)))
                self.last_error = f"{what}: {_first_line(error)}"
            except Exception as error:  # the connection, the database: try again
                if store_is_full(error):
                    return self._refuse(_store_full(what, error))
                self.last_error = f"{what}: {_first_line(error)}"
            time.sleep(self.RETRY_SECONDS)

    def _refuse(self, refusal: Refusal) -> None:
        """Stop the delivery at the first refusal for good (the later ones come of the same cause)."""
        with self.done:
            self.refusal = self.refusal or refusal
            self.done.notify_all()


class _Lane:
    """One queue of calls and the thread that sends them, in order."""

    def __init__(self, delivery: Delivery, number: int):
        self.delivery = delivery
        self.calls: queue.Queue[tuple[str, str, Callable[[], None]]] = queue.Queue()
        threading.Thread(target=self._work, name=f"mlflow-delivery-{number}", daemon=True).start()

    def _work(self) -> None:
        while True:
            owner, what, call = self.calls.get()
            sending = self.delivery.refusal is None  # after a refusal the rest is dropped
            try:
                if sending:
                    with self.delivery.done:
                        self.delivery.in_flight += 1
                    self.delivery._deliver(f"{owner}: {what}", call)
            finally:
                del call  # freed before it counts as done (see Delivery.wait)
                self.delivery._finished_one(owner, sending)


def refused_message(uri: str, experiment: str, experiment_id: str, refusal: Refusal) -> str:
    """One message for a refused call: the store, the user, what was refused, the fix."""
    username = os.environ.get("MLFLOW_TRACKING_USERNAME") if is_server(uri) else None
    if refusal.code == STORE_FULL:
        return full_store_message(uri, refusal.full_folder)
    if refusal.code == "PERMISSION_DENIED":
        return f"{refusal.what} was refused (permission denied). " + may_not_write(uri, username, experiment, None)
    if refusal.code == "UNAUTHENTICATED":
        return (f"the MLflow server at {uri} no longer accepts the credentials of user {username!r} ({refusal.what}: "
                "unauthenticated): set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to a valid account "
                "and run snakemake again; runs complete on disk are recorded from their files, without training.")
    if DELETED_EXPERIMENT.search(refusal.message):
        return f"{refusal.what} was refused: {deleted_experiment(uri, experiment, experiment_id)}"
    return (f"the MLflow store at {uri} refused {refusal.what} ({refusal.code}: {refusal.message}). The runs "
            "complete on disk are kept; once the cause is fixed, run snakemake again: it records them from "
            "their files, without training.")


@contextmanager
def refusals_said(uri: str, experiment: str, experiment_id: str | None, what: str) -> Iterator[None]:
    """For the calls a job makes itself, outside the queue (making the experiment, a study's parent,
    superseding): a refusal for good becomes the same one message (TrackingError)."""
    try:
        yield
    except MlflowException as error:
        if error.error_code not in {"PERMISSION_DENIED", "UNAUTHENTICATED"} \
                and not DELETED_EXPERIMENT.search(error.message):
            raise
        refusal = Refusal(what, error.error_code, _first_line(error))
        raise TrackingError(refused_message(uri, experiment, experiment_id or "?", refusal)) from None


def _store_full(what: str, error: Exception) -> Refusal:
    found = no_space_in(error)  # in the store's files (artifacts), which name the file; else in its database
    return Refusal(what, STORE_FULL, _first_line(error), folder_of(found) if found is not None else None)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
