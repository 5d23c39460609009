"""What a job says when it ends badly (nndl.joblog.job_log): one message, no traceback, for a full
disk wherever a library met it, a full MLflow store, and a stop (the signal, and the run it dropped
or that none was in training). Real errors and real signals, sent to this process."""

import contextlib
import gc
import logging
import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from nndl.interrupt import doing, restore, terminate_on_signals
from nndl.joblog import job_log

HANG_S = 120


@pytest.fixture(autouse=True)
def collector_as_it_was():
    """job_log freezes its process's heap (nndl.heap); the pytest process runs on without it."""
    yield
    gc.unfreeze()


def said(capsys, log: Path, block, writes=()) -> tuple[str, str]:
    """(console, log) of a job whose body is `block`, which must end it with exit status 1."""
    with pytest.raises(SystemExit) as ended:
        with job_log(log, writes=writes):
            block()
    assert ended.value.code == 1
    return capsys.readouterr().err, log.read_text()


def test_a_full_disk_deep_in_a_library_is_one_message_naming_the_folder_written(tmp_path, capsys):
    """nbformat's way: a write fails on a full disk (/dev/full: ENOSPC, naming no file) while it
    handles another error. The folder is the job's outputs'."""
    report = tmp_path / "results" / "report"

    def write_like_nbformat():
        try:
            "not a file".write("{}")
        except AttributeError:
            with open("/dev/full", "w") as handle:
                handle.write("{}")

    console, log = said(capsys, tmp_path / "job.log", write_like_nbformat,
                        writes=[report / "summary.ipynb", report / "summary.html"])
    message = (f"ERROR: the disk holding {report.resolve()} is full (No space left on device). Free space there "
               f"(df -h {report.resolve()} shows how much is left")
    assert console.startswith(message) and log.startswith(message) and log.count("is full") == 1
    assert "then run snakemake again. Nothing was half-written: what this job was writing is not there" in log
    assert "Traceback" not in console + log


def test_a_full_store_is_one_message_naming_its_file_and_mlflows_own_traceback_is_left_out(tmp_path, capsys,
                                                                                          monkeypatch):
    """SQLite's SQLITE_FULL (a database allowed two pages), logged with its traceback under
    MLflow's database logger as MLflow does for each failed call, then raised wrapped."""
    database = tmp_path / "store" / "mlflow.db"
    database.parent.mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("CREATE TABLE runs (data BLOB)")
    connection.execute("PRAGMA max_page_count = 2")

    def record_a_run():
        try:
            connection.execute("INSERT INTO runs VALUES (zeroblob(100000))")
        except sqlite3.OperationalError as error:
            logging.getLogger("mlflow.store.db.utils").exception("SQLAlchemy database error.")
            raise RuntimeError("the store refused the call") from error

    console, log = said(capsys, tmp_path / "job.log", record_a_run)
    assert log.startswith(f"ERROR: the disk holding the MLflow store {database} is full (sqlite: database or disk "
                          "is full), so the store records nothing more")
    assert "the runs' files are complete and kept" in log and log.count("database or disk is full") == 1
    assert "Traceback" not in console + log


def test_another_error_keeps_its_traceback(tmp_path, capsys):
    def fail():
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        with job_log(tmp_path / "job.log"):
            fail()
    assert "Traceback" in capsys.readouterr().err and "ValueError: a bug" in (tmp_path / "job.log").read_text()


@pytest.mark.parametrize("signum, what, training, words", [
    (signal.SIGINT, "training softmax-scratch-seed0", "softmax-scratch-seed0",
     "stopped on request (SIGINT (Ctrl-C)) while training softmax-scratch-seed0: that run is dropped (no record, no "
     "MLflow run); complete runs are kept. Run the same command again to go on"),
    (signal.SIGTERM, "waiting for the MLflow store to record the runs", None,
     "stopped on request (SIGTERM) while waiting for the MLflow store to record the runs, no run in training: "
     "nothing is dropped; complete runs are kept."),
    (signal.SIGHUP, None, None, "stopped on request (SIGHUP) with no run in training: what the job was writing is "
                                "not there (files are written whole or not at all); complete runs are kept."),
])
def test_a_stop_names_the_signal_and_the_run_in_training_or_that_none_was(tmp_path, capsys, signum, what,
                                                                          training, words):
    # Ctrl-C as Python raises it (KeyboardInterrupt, nothing said); SIGTERM and SIGHUP as a job raises them.
    handlers = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler), **terminate_on_signals()}

    def stopped():
        with doing(what, training) if what else contextlib.nullcontext():
            os.kill(os.getpid(), signum)
            threading.Event().wait(HANG_S)  # the signal's exception ends the wait
        raise AssertionError("the signal never came")

    try:
        console, log = said(capsys, tmp_path / "job.log", stopped)
    finally:
        restore(handlers)
    assert log.startswith(words) and console.startswith(words)
    assert "()" not in log and "Traceback" not in console + log


def test_what_a_job_holds_when_it_starts_and_ends_is_frozen(tmp_path):
    """Its full collections and the interpreter's exit do not walk it again (nndl.heap)."""
    gc.unfreeze()
    made_before = []
    with job_log(tmp_path / "job.log"):
        made_in_the_job = []
        assert not collectable(made_before) and collectable(made_in_the_job)
    assert not collectable(made_in_the_job)


def collectable(found) -> bool:
    """Whether the collector may walk `found` (gc.get_objects leaves frozen objects out)."""
    return any(tracked is found for tracked in gc.get_objects())
