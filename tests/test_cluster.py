"""Beyond one machine, for real: a one-node Slurm cluster and a PostgreSQL-backed MLflow server,
both on this machine (scripts/slurm-cluster.sh, scripts/mlflow-server.sh). They need root to
install and start the daemons, as in CI."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, small_config
from mlflow_store import artifact_paths, metric_steps, runs_by_name

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="starts system daemons: run as root (CI does)")
RUN_NAMES = {f"{task}-{impl}-seed0" for task in ("linreg", "softmax") for impl in ("scratch", "concise")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def script(name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", str(ROOT / "scripts" / name), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=600)
    assert result.returncode == 0, f"{name} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def assert_complete_runs(tracking_uri: str, experiment: str) -> dict:
    runs = runs_by_name(tracking_uri, experiment)
    assert set(runs) == RUN_NAMES
    for name, run in runs.items():
        task = name.split("-")[0]
        assert run.info.status == "FINISHED", name
        epochs = small_config()[task]["epochs"]
        for key in ("train/loss", "test/loss"):
            assert metric_steps(tracking_uri, run.info.run_id, key) == list(range(1, epochs + 1)), (name, key)
        assert "final/test_loss" in run.data.metrics
    return runs


def test_slurm_profile_dry_run_needs_no_cluster(workflow):
    workflow.write_config(small_config())
    result = workflow.run("--profile", "profiles/slurm", "--dry-run")
    assert "rule train_chunk:" in result.stdout and "Job stats" in result.stdout


@needs_root
def test_pipeline_runs_through_slurm(workflow, tmp_path):
    state = tmp_path / "slurm"
    script("slurm-cluster.sh", "up", env={"NNDL_SLURM_STATE": str(state)})
    try:
        workflow.write_config(small_config())
        result = workflow.run(
            "--profile", "profiles/slurm", "--slurm-status-command", "squeue",
            "--default-resources", "slurm_partition=nndl", "mem_mb=1000", "runtime=10",
            # The profile asks for a GPU; this cluster has none.
            "--set-resources", "train_chunk:gpu=0", "env_check:gpu=0",
            timeout=1200,
        )
        assert result.returncode == 0
        # Snakemake's log names each job it handed to Slurm; Slurm's job-completion log has them all.
        snakemake_log = next(workflow.path(".snakemake/log").glob("*.snakemake.log")).read_text()
        submitted = re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/", snakemake_log)
        rules = [rule for _, rule in submitted]
        assert sorted(set(rules)) == ["env_check", "train_chunk"]  # the light rules stay local
        # The profile's 64 jobs allow a chunk per run: 4 jobs, each training and evaluating in one process.
        assert rules.count("train_chunk") == 4
        completed = (state / "log" / "jobcomp.log").read_text()
        for job_id, rule in submitted:
            assert re.search(rf"^JobId={job_id} .*JobState=COMPLETED Partition=nndl", completed, re.MULTILINE), rule
        assert_complete_runs(workflow.tracking_uri, "nndl-small")
    finally:
        script("slurm-cluster.sh", "down", env={"NNDL_SLURM_STATE": str(state)})


@pytest.fixture
def server_state():
    """A state folder the `postgres` user can reach (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="nndl-mlflow-server-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@needs_root
def test_pipeline_tracks_into_a_shared_mlflow_server(workflow, server_state):
    port = free_port()
    env = {"NNDL_MLFLOW_STATE": str(server_state), "NNDL_MLFLOW_PORT": str(port),
           "NNDL_PG_PORT": str(free_port()), "NNDL_MLFLOW": str(ROOT / ".venv" / "bin" / "mlflow")}
    up = script("mlflow-server.sh", "up", env=env)
    uri = f"http://127.0.0.1:{port}"
    assert f"MLFLOW_TRACKING_URI={uri}" in up.stdout
    try:
        workflow.write_config(small_config())
        workflow.run(env=workflow.environment(MLFLOW_TRACKING_URI=uri))  # --cores 2: parallel jobs
        runs = assert_complete_runs(uri, "nndl-small")
        for name, run in runs.items():
            artifacts = artifact_paths(uri, run.info.run_id)
            assert {"history.json", "metrics.json", "predictions.json", "model.pt", "figures"} <= artifacts, name
            assert artifact_paths(uri, run.info.run_id, "figures"), name
        assert not workflow.path("mlflow.db").exists()  # nothing went to the local store
        assert any((server_state / "artifacts").rglob("history.json"))

        # Switching back to the local store re-executes nothing.
        dry = workflow.run("--dry-run")
        assert "Nothing to be done" in dry.stdout + dry.stderr
    finally:
        script("mlflow-server.sh", "down", env=env)
