"""Interrupted for real: Ctrl-C, SIGTERM to Snakemake or to a chunk job, SIGKILL mid-chunk, and
the sweep that marks a killed job's runs; no run stays RUNNING and a rerun trains only the rest.

A run goes to MLflow once, after its files and record are written (nndl.runs.chunk_job): the run in
training when a job stops has no MLflow run at all, and no files."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import small_config
from dispositions import as_in_a_terminal, ignored
from mlflow_store import runs_by_name, statuses_by_name

pytestmark = pytest.mark.e2e
CHUNK = {task: f"results/chunks/{task}-0-of-1.json" for task in ("linreg", "softmax")}
HANG_S = 600  # the limit on every wait below: only a hang reaches it, not a busy machine
STARTED: list[subprocess.Popen] = []  # this test's Snakemake processes (no_process_left)


def in_epochs(log_text: str, run_name: str) -> bool:
    """Whether the chunk's log shows `run_name` past its third epoch (each run's epochs follow its
    "training on" line), so that a signal sent now lands mid-training on a machine of any speed."""
    _, started, after = log_text.partition(f"{run_name}: training on")
    return bool(started) and "  epoch 3/" in after


def chunk_job_pid(session: int) -> int | None:
    """The pid of the chunk job (a train_chunk script) in Snakemake's session `session`."""
    for entry in os.listdir("/proc"):
        try:
            command = open(f"/proc/{entry}/cmdline", "rb").read()
            if entry.isdigit() and b"train_chunk" in command and b"snakemake" not in command.split(b"\0")[0] \
                    and os.getsid(int(entry)) == session:
                return int(entry)
        except OSError:
            continue
    return None


def waiting(pid: int) -> bool:
    """Whether the main thread of process `pid` sleeps (its state in /proc: a wait, not training)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "S"


def wait_until(predicate, what: str, process: subprocess.Popen):
    """`predicate()`'s value once it is true, looked at every 0.05 s (a signal sent on it lands
    within about 0.1 s; a run of 100 epochs trains for 2 s here); AssertionError if Snakemake ends
    first or HANG_S pass."""
    deadline = time.monotonic() + HANG_S
    while time.monotonic() < deadline and process.poll() is None:
        if found := predicate():
            return found
        time.sleep(0.05)
    raise AssertionError(f"never saw {what}; Snakemake {'ended' if process.poll() is not None else 'still runs'}")


@pytest.fixture(autouse=True)
def no_process_left():
    """Whatever a test ends on (a wait that timed out), the Snakemake it started is stopped with
    its jobs (each in a session of its own)."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def start_and_wait_for_training(workflow, target, run_name="softmax-scratch-seed0"):
    """Start Snakemake on `target` in a session of its own, as a terminal starts a foreground job
    whatever this process ignores (tests/dispositions.py); return (process, chunk job's pid) once
    the run `run_name` is past its third epoch."""
    process = subprocess.Popen(workflow.command(target), cwd=workflow.folder, env=workflow.environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, preexec_fn=as_in_a_terminal)
    STARTED.append(process)
    log = workflow.path(f"logs/train/{target.split('/')[-1].removesuffix('.json')}.log")
    # Epoch 3 in the log: the chunk job has created the store, which the test reads next (two first
    # users of sqlite race).
    try:
        pid = wait_until(lambda: log.exists() and in_epochs(log.read_text(), run_name) and chunk_job_pid(process.pid),
                         f"{run_name} past its third epoch", process)
    except AssertionError as error:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(f"{error}:\n{process.communicate()[0]}") from None
    # What the tests send must reach Snakemake and its job as it reaches a terminal's foreground job.
    assert ignored(process.pid) == ignored(pid) == [], (ignored(process.pid), ignored(pid))
    return process, pid


def long_training_config(epochs=400, seeds=(0,)):
    config = small_config(seeds=list(seeds))
    config["softmax"]["epochs"] = epochs  # 0.02-0.03 s an epoch on the stand-in on 2 cores
    return config


def test_ctrl_c_then_sigterm_leave_no_running_run_and_a_plain_rerun_resumes(workflow):
    # 100 epochs: 2 s of training or more here, the signal lands about 0.1 s after epoch 3.
    workflow.write_config(long_training_config(epochs=100))
    target = CHUNK["softmax"]
    model = workflow.run_folder("softmax-scratch-seed0") / "model.pt"

    # Ctrl-C: the run in training writes nothing and leaves no MLflow run.
    process, _ = start_and_wait_for_training(workflow, target)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends the foreground group
    output = process.communicate(timeout=HANG_S)[0]
    assert process.returncode != 0, output
    assert "stopped on request (SIGINT (Ctrl-C)) while training softmax-scratch-seed0: that run is dropped" \
        in workflow.path("logs/train/softmax-0-of-1.log").read_text()
    assert "softmax-scratch-seed0" not in statuses_by_name(workflow.tracking_uri, "nndl-small")
    assert not model.exists() and not list(workflow.folder.rglob("*.part"))

    # SIGTERM to Snakemake alone: it lets the running job finish, so the run ends FINISHED, whole.
    process, _ = start_and_wait_for_training(workflow, target)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=HANG_S)[0]
    assert process.returncode != 0, output
    assert "FINISHED" in statuses_by_name(workflow.tracking_uri, "nndl-small")["softmax-scratch-seed0"]
    assert model.exists() and not list(workflow.folder.rglob("*.part"))

    workflow.run(target)  # a plain rerun finishes the work: no --rerun-incomplete needed
    statuses = statuses_by_name(workflow.tracking_uri, "nndl-small")
    assert all(attempts.count("FINISHED") == 1 for attempts in statuses.values()), statuses
    assert all(attempts == ["FINISHED"] for attempts in statuses.values()), statuses
    assert workflow.path(target).exists()


def no_run_left_running(workflow) -> dict:
    statuses = statuses_by_name(workflow.tracking_uri, "nndl-small")
    assert not any("RUNNING" in attempts for attempts in statuses.values()), statuses
    return statuses


def test_a_closed_terminal_stops_like_ctrl_c_and_the_plain_rerun_needs_no_unlock(workflow):
    """SIGHUP to Snakemake's process group (a closed terminal, a dropped ssh session)."""
    workflow.write_config(long_training_config(epochs=100))
    target = CHUNK["softmax"]
    process, _ = start_and_wait_for_training(workflow, target)
    os.killpg(process.pid, signal.SIGHUP)
    output = process.communicate(timeout=HANG_S)[0]
    assert process.returncode != 0, output
    assert "stopped on request (SIGHUP) while training softmax-scratch-seed0: that run is dropped" in output
    assert "nndl.interrupt.Terminated" not in output
    assert "softmax-scratch-seed0" not in no_run_left_running(workflow)
    assert not list(workflow.path(".snakemake/locks").glob("*")), output  # released
    result = workflow.run(target)  # plain: no --unlock, no --rerun-incomplete
    assert "LockException" not in result.stderr
    statuses = no_run_left_running(workflow)
    assert all(attempts.count("FINISHED") == 1 for attempts in statuses.values()), statuses


def test_ctrl_c_while_the_job_waits_for_the_store_loses_no_run(workflow):
    """The runs' files are complete, their record still queued (the store is locked by another
    writer): Ctrl-C. The plain rerun records them from their files, trains nothing, and leaves one
    FINISHED run each, none RUNNING."""
    import sqlite3

    workflow.write_config(long_training_config(epochs=100))
    target = CHUNK["softmax"]
    process, pid = start_and_wait_for_training(workflow, target, run_name="softmax-concise-seed0")
    store = sqlite3.connect(workflow.tracking_uri.removeprefix("sqlite:///"), timeout=HANG_S, isolation_level=None)
    store.execute("BEGIN EXCLUSIVE")  # the store takes no call from now on
    try:
        log = workflow.path("logs/train/softmax-0-of-1.log")
        # The last run's files are complete and its record queued; the job waits for the store.
        wait_until(lambda: "[2/2] softmax-concise-seed0: finished in" in log.read_text() and waiting(pid),
                   "the job waiting for the store", process)
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=HANG_S)[0]
        assert process.returncode != 0, output
    finally:
        store.execute("ROLLBACK")
        store.close()
    assert "stopped on request (SIGINT (Ctrl-C)) while waiting for the MLflow store to record the runs, no run in " \
           "training: nothing is dropped" in log.read_text()
    records = workflow.records()
    assert sorted(records) == ["softmax-concise-seed0", "softmax-scratch-seed0"]  # both complete on disk

    workflow.run(target)
    assert not any(row["trained"] for row in json.loads(workflow.path(target).read_text())["runs"])
    assert workflow.records() == records
    assert no_run_left_running(workflow) == {"softmax-scratch-seed0": ["FINISHED"],
                                             "softmax-concise-seed0": ["FINISHED"]}


def test_sigkill_mid_chunk_then_rerun_trains_only_what_did_not_finish(workflow):
    # Two seeds: one chunk of four softmax runs. Kill the job while the third one trains.
    workflow.write_config(long_training_config(epochs=100, seeds=(0, 1)))
    target = CHUNK["softmax"]
    process, pid = start_and_wait_for_training(workflow, target, run_name="softmax-scratch-seed1")
    os.kill(pid, signal.SIGKILL)
    process.communicate(timeout=HANG_S)
    finished_before = workflow.records()
    assert sorted(finished_before) == ["softmax-concise-seed0", "softmax-scratch-seed0"]
    assert "softmax-scratch-seed1" not in runs_by_name(workflow.tracking_uri, "nndl-small")

    result = workflow.run(target)
    manifest = json.loads(workflow.path(target).read_text())
    assert [row["name"] for row in manifest["runs"] if row["trained"]] == ["softmax-scratch-seed1",
                                                                           "softmax-concise-seed1"]
    assert "[1/4] softmax-scratch-seed0: complete, skipped" in result.stdout
    statuses = statuses_by_name(workflow.tracking_uri, "nndl-small")
    assert statuses == {"softmax-scratch-seed0": ["FINISHED"], "softmax-concise-seed0": ["FINISHED"],
                        "softmax-scratch-seed1": ["FINISHED"], "softmax-concise-seed1": ["FINISHED"]}
    after = workflow.records()
    assert {name: after[name] for name in finished_before} == finished_before  # not trained again


def test_sigterm_to_a_chunk_job_stops_it_with_nothing_half_written(workflow):
    workflow.write_config(long_training_config(epochs=2000))  # long enough to be caught mid-training
    process, pid = start_and_wait_for_training(workflow, CHUNK["softmax"])
    try:
        os.kill(pid, signal.SIGTERM)
        assert process.wait(timeout=HANG_S) != 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "softmax-scratch-seed0" not in runs_by_name(workflow.tracking_uri, "nndl-small")
    assert not (workflow.run_folder("softmax-scratch-seed0") / "model.pt").exists()
    assert "stopped on request (SIGTERM) while training softmax-scratch-seed0: that run is dropped" \
        in workflow.path("logs/train/softmax-0-of-1.log").read_text()


def test_orphan_sweep_leaves_live_processes_other_hosts_and_other_projects_alone(tmp_path):
    from mlflow.tracking import MlflowClient

    from nndl.provenance import process_identity
    from nndl.tracking import repairs, tags
    from nndl.tracking.store import ensure_experiment

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = ensure_experiment(uri, "orphans")
    client = MlflowClient(tracking_uri=uri)
    host = process_identity()["host"]
    dead = subprocess.Popen(["true"])
    dead.wait()
    cases = {"live": (host, os.getpid(), "p-me"), "dead": (host, dead.pid, "p-me"),
             "elsewhere": ("other-host", dead.pid, "p-me"), "teammate's": (host, dead.pid, "p-teammate")}
    ids = {}
    for name, (run_host, pid, project) in cases.items():
        run = client.create_run(experiment_id, run_name=name,
                                tags={tags.HOST_TAG: run_host, tags.PID_TAG: str(pid), tags.PROJECT_TAG: project})
        ids[name] = run.info.run_id
    assert repairs.mark_orphaned_runs_killed(uri, "orphans", "p-me") == [ids["dead"]]
    statuses = {name: client.get_run(run_id).info.status for name, run_id in ids.items()}
    assert statuses == {"live": "RUNNING", "dead": "KILLED", "elsewhere": "RUNNING", "teammate's": "RUNNING"}
