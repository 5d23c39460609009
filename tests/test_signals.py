"""Interrupted for real: Ctrl-C, SIGTERM to Snakemake or to a chunk job, SIGKILL mid-chunk, and
the sweep that marks a killed job's runs; no run stays RUNNING and a rerun trains only the rest.

A run goes to MLflow once, after its files and record are written (nndl.runs.chunk_job): the run in
training when a job stops has no MLflow run at all, and no files."""

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import small_config
from mlflow_store import runs_by_name, statuses_by_name

pytestmark = pytest.mark.e2e
CHUNK = {task: f"results/chunks/{task}-0-of-1.json" for task in ("linreg", "softmax")}


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


def start_and_wait_for_training(workflow, target, run_name="softmax-scratch-seed0", start_new_session=True):
    """Start Snakemake on `target`; return (process, chunk job's pid) once the run `run_name` is
    past its third epoch."""
    process = subprocess.Popen(workflow.command(target), cwd=workflow.folder, env=workflow.environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=start_new_session)
    log = workflow.path(f"logs/train/{target.split('/')[-1].removesuffix('.json')}.log")
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        # Read the store only once the chunk job has created it (two first users of sqlite race).
        if log.exists() and in_epochs(log.read_text(), run_name):
            pid = chunk_job_pid(process.pid if start_new_session else os.getsid(0))
            if pid is not None:
                return process, pid
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"{run_name} never started:\n{process.communicate()[0]}")


def long_training_config(epochs=400, seeds=(0,)):
    config = small_config(seeds=list(seeds))
    config["softmax"]["epochs"] = epochs  # about 0.03 s an epoch on the stand-in
    return config


def test_ctrl_c_then_sigterm_leave_no_running_run_and_a_plain_rerun_resumes(workflow):
    # 100 epochs: 3 s of training or more, the signal lands about 1 s in.
    workflow.write_config(long_training_config(epochs=100))
    target = CHUNK["softmax"]
    model = workflow.run_folder("softmax-scratch-seed0") / "model.pt"

    # Ctrl-C: the run in training writes nothing and leaves no MLflow run.
    process, _ = start_and_wait_for_training(workflow, target)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends the foreground group
    output = process.communicate(timeout=240)[0]
    assert process.returncode != 0, output
    assert "softmax-scratch-seed0" not in statuses_by_name(workflow.tracking_uri, "nndl-small")
    assert not model.exists() and not list(workflow.folder.rglob("*.part"))

    # SIGTERM to Snakemake alone: it lets the running job finish, so the run ends FINISHED, whole.
    process, _ = start_and_wait_for_training(workflow, target)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=240)[0]
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
    output = process.communicate(timeout=240)[0]
    assert process.returncode != 0, output
    assert "stopped on request (received signal SIGHUP)" in output and "nndl.interrupt.Terminated" not in output
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
    process, _ = start_and_wait_for_training(workflow, target, run_name="softmax-concise-seed0")
    store = sqlite3.connect(workflow.tracking_uri.removeprefix("sqlite:///"), timeout=60, isolation_level=None)
    store.execute("BEGIN EXCLUSIVE")  # the store takes no call from now on
    try:
        log = workflow.path("logs/train/softmax-0-of-1.log")
        deadline = time.time() + 120
        while "[2/2] softmax-concise-seed0: finished in" not in log.read_text() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # waiting for the store now
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=240)[0]
        assert process.returncode != 0, output
    finally:
        store.execute("ROLLBACK")
        store.close()
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
    process.communicate(timeout=120)
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
        assert process.wait(timeout=120) != 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "softmax-scratch-seed0" not in runs_by_name(workflow.tracking_uri, "nndl-small")
    assert not (workflow.run_folder("softmax-scratch-seed0") / "model.pt").exists()
    assert "stopped on request (received signal SIGTERM)" in workflow.path("logs/train/softmax-0-of-1.log").read_text()


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
