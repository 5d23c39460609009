"""The background delivery of MLflow calls: each run's calls in order, runs side by side.

Every wait here is for an event, with a limit (HANG_S) that only a hang reaches."""

import threading
import time

import pytest

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, PERMISSION_DENIED

from mlflow.entities import Metric, Param, RunTag

from nndl.errors import TrackingError
from nndl.tracking.delivery import Delivery
from nndl.tracking.run import batches

HANG_S = 120


def test_each_owner_keeps_its_order_while_owners_go_side_by_side():
    delivery = Delivery(lanes=2)
    sent: dict[str, list[int]] = {"a": [], "b": []}
    both_sending = threading.Barrier(2, timeout=HANG_S)  # broken (an error) unless two owners send at once

    def call(owner, number):
        if number == 0:
            both_sending.wait()
        time.sleep(0.01)
        sent[owner].append(number)

    for number in range(5):
        for owner in sent:
            delivery.send(owner, f"call {number}", lambda owner=owner, number=number: call(owner, number))
    assert delivery.wait(HANG_S)
    assert sent == {"a": [0, 1, 2, 3, 4], "b": [0, 1, 2, 3, 4]}
    assert delivery.behind() == [] and delivery.refusal is None


def test_a_failing_call_is_tried_again_and_a_refused_one_stops_the_rest_at_once(monkeypatch):
    delivery = Delivery()
    delivery.RETRY_SECONDS = 0.01
    attempts, after = [], []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("connection refused")

    def refused():
        raise MlflowException("Permission denied", error_code=PERMISSION_DENIED)

    delivery.send("run-a", "log metrics", flaky)
    delivery.send("run-b", "create the run", refused)
    release = threading.Event()
    delivery.send("run-b", "log params", lambda: (release.wait(), after.append(1)))
    # Done before the call queued behind the refusal could run: it waits on `release`, set only after.
    assert delivery.wait(HANG_S)
    release.set()
    assert len(attempts) == 3 and delivery.last_error == "run-a: log metrics: connection refused"
    assert delivery.refusal.what == "run-b: create the run" and delivery.refusal.code == "PERMISSION_DENIED"
    time.sleep(0.1)
    assert after == []  # dropped: with no run made, it could only fail
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "reader")
    with pytest.raises(TrackingError) as stopped:
        delivery.raise_if_refused("http://127.0.0.1:5000", "nndl", "1")
    message = str(stopped.value)
    assert "run-b: create the run was refused (permission denied)" in message
    assert "does not let user 'reader' write to experiment 'nndl'" in message
    assert "scripts/mlflow-server.sh grant reader nndl EDIT" in message


def test_a_refusal_names_the_deleted_experiment_and_the_command_that_restores_it():
    delivery = Delivery()
    delivery.send("run", "create the run", lambda: (_ for _ in ()).throw(MlflowException(
        "The experiment 3 must be in the 'active' state. Current state is deleted.",
        error_code=INVALID_PARAMETER_VALUE)))
    assert delivery.wait(HANG_S)
    with pytest.raises(TrackingError, match="mlflow experiments restore --experiment-id 3"):
        delivery.raise_if_refused("sqlite:///mlflow.db", "nndl", "3")


def test_behind_names_the_owners_still_waiting_in_the_order_they_came():
    delivery = Delivery(lanes=2)
    release = threading.Event()
    for owner in ("first", "second", "third"):
        delivery.send(owner, "end it", release.wait)
    assert delivery.behind() == ["first", "second", "third"]
    assert not delivery.wait(0.1)
    release.set()
    assert delivery.wait(HANG_S) and delivery.behind() == []
    assert len(Delivery.for_store("http://127.0.0.1:5000").lanes) > 1
    assert len(Delivery.for_store("sqlite:///mlflow.db").lanes) == 1


def test_the_tags_go_last_and_no_call_is_over_the_limit():
    tags = [RunTag("outcome", "ok"), RunTag("nndl.recorded", "true")]

    def metrics(count):
        return [Metric("m", 1.0, 0, step) for step in range(count)]

    def sizes(found):
        return [(len(params), len(batch), len(with_tags)) for params, batch, with_tags in found]

    def params(count):
        return [Param(f"p{index}", "1") for index in range(count)]

    assert sizes(batches([], metrics(5), tags, 1000, 100)) == [(0, 5, 2)]
    assert sizes(batches([], metrics(998), tags, 1000, 100)) == [(0, 998, 2)]
    # A full last batch: the tags alone, after it (MLflow would split a call of 1001 items).
    assert sizes(batches([], metrics(999), tags, 1000, 100)) == [(0, 999, 0), (0, 0, 2)]
    assert sizes(batches([], metrics(2000), tags, 1000, 100)) == [(0, 1000, 0), (0, 1000, 0), (0, 0, 2)]
    assert sizes(batches([], [], tags, 1000, 100)) == [(0, 0, 2)]
    assert sizes(batches([], metrics(3), [], 1000, 100)) == [(0, 3, 0)]
    assert batches([], [], [], 1000, 100) == []
    # A short run's params, metrics and tags: one call; params past MLflow's 100 a call: their own.
    assert sizes(batches(params(9), metrics(13), tags, 1000, 100)) == [(9, 13, 2)]
    assert sizes(batches(params(150), metrics(13), tags, 1000, 100)) == [(100, 0, 0), (50, 13, 2)]
    assert sizes(batches(params(9), metrics(995), tags, 1000, 100)) == [(9, 0, 0), (0, 995, 2)]


def test_the_last_word_is_the_stores_last_error_or_that_it_never_answered():
    """What the job's timeout message says of the store (nndl.runs.chunk_job): never None."""
    delivery = Delivery()
    delivery.RETRY_SECONDS = 0.01
    release = threading.Event()
    delivery.send("run", "create the run", release.wait)  # a server that took the call and never answers
    assert not delivery.wait(0.05)
    assert delivery.last_word() == "the store never answered a call"
    release.set()
    assert delivery.wait(HANG_S)
    held = threading.Event()
    delivery.send("run", "log metrics", held.wait)
    assert not delivery.wait(0.05)
    assert delivery.last_word().startswith("no error; the store last answered ")
    held.set()
    failures = []

    def refused_once():
        failures.append(1)
        if len(failures) == 1:
            raise ConnectionError("connection refused")

    delivery.send("run", "end it", refused_once)
    assert delivery.wait(HANG_S)
    assert delivery.last_word() == "last error: run: end it: connection refused"


def test_a_full_store_stops_the_delivery_at_once_with_one_message(tmp_path):
    """SQLite's own SQLITE_FULL (a database allowed two pages): no retry, one message naming the
    store's file and folder, saying the runs' files are kept."""
    import sqlite3

    database = tmp_path / "full store" / "mlflow.db"
    database.parent.mkdir()
    connection = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
    connection.execute("CREATE TABLE runs (data BLOB)")
    connection.execute("PRAGMA max_page_count = 2")
    attempts = []

    def insert():
        attempts.append(1)
        connection.execute("INSERT INTO runs VALUES (zeroblob(100000))")

    delivery = Delivery()
    delivery.RETRY_SECONDS = 0.01
    delivery.send("run", "log metrics", insert)
    assert delivery.wait(HANG_S)
    assert len(attempts) == 1 and delivery.refusal.code == "STORE_FULL"
    with pytest.raises(TrackingError) as stopped:
        delivery.raise_if_refused(f"sqlite:///{database}", "nndl", "1")
    message = str(stopped.value)
    assert message.startswith(f"the disk holding the MLflow store {database} is full (sqlite: database or disk is "
                              "full), so the store records nothing more")
    assert f"df -h '{database.parent}'" in message and "the runs' files are complete and kept" in message
    assert "without training" in message
