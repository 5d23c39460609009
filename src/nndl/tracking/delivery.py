"""A chunk job's MLflow calls, sent in order by one background thread, so training never waits on
the store: a slow or absent server delays the record, never the run or its files.

Each call is tried again until it goes through (MLflow's own retries first, then ours every
RETRY_SECONDS), so an outage is ridden out; the job decides at its end how long to wait for the
rest (`wait`). A call the store refuses for good (a bad value, no permission) is not tried again:
it is kept in `refused` and reported. Kept instead of MLflow's own asynchronous logging, which
covers metrics, params and tags but not the run's creation, its artifacts, its model or its end,
and which was measured sending one batch per call (1500 epochs x 5 metrics: 20 s to flush on
sqlite, against one batch per FLUSH_SECONDS here).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from mlflow.exceptions import MlflowException

# Errors that no retry mends: the call itself is wrong, or this user may not make it.
REFUSED_CODES = {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "RESOURCE_DOES_NOT_EXIST", "PERMISSION_DENIED",
                 "UNAUTHENTICATED", "INVALID_STATE"}
ALREADY_DONE = "RESOURCE_ALREADY_EXISTS"  # a call retried after the store took it, but before it answered


class Delivery:
    RETRY_SECONDS = 2.0

    def __init__(self):
        self.calls: queue.Queue[tuple[str, str, Callable[[], None]]] = queue.Queue()
        self.sending: str | None = None  # the owner of the call being sent
        self.refused: list[str] = []  # 'what: error' of each call the store refused for good
        self.last_error: str | None = None  # the latest error a call met, for the job's message
        threading.Thread(target=self._work, name="mlflow-delivery", daemon=True).start()

    def send(self, owner: str, what: str, call: Callable[[], None]) -> None:
        """Queue `call`, made for `owner` (a run's name; `what` names the call in messages);
        returns at once."""
        self.calls.put((owner, what, call))

    def behind(self) -> list[str]:
        """The owners of the calls not yet sent, in order."""
        owners = [self.sending] + [owner for owner, _, _ in list(self.calls.queue)]
        return list(dict.fromkeys(owner for owner in owners if owner))

    def wait(self, timeout_s: float) -> bool:
        """Wait until every queued call went through (or was refused), at most `timeout_s`."""
        with self.calls.all_tasks_done:
            return self.calls.all_tasks_done.wait_for(lambda: self.calls.unfinished_tasks == 0, timeout_s)

    def _work(self) -> None:
        while True:
            owner, what, call = self.calls.get()
            self.sending = owner
            try:
                self._deliver(f"{owner}: {what}", call)
            finally:
                self.sending = None
                self.calls.task_done()

    def _deliver(self, what: str, call: Callable[[], None]) -> None:
        while True:
            try:
                call()
                return
            except MlflowException as error:
                if error.error_code == ALREADY_DONE:
                    return
                if error.error_code in REFUSED_CODES:
                    self.refused.append(f"{what}: {error.message}")
                    return
                self.last_error = f"{what}: {_first_line(error)}"
            except Exception as error:  # the connection, the database: try again
                self.last_error = f"{what}: {_first_line(error)}"
            time.sleep(self.RETRY_SECONDS)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
