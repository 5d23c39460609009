"""What the real pipeline does when things go wrong: bad data, bad config, no data, divergence,
interruption, killed jobs, many parallel writers to one MLflow store, and precise reruns."""

import gzip
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import Workflow, small_config
from http_mirrors import dead_url
from mlflow_store import metric_steps, runs_by_name

pytestmark = pytest.mark.e2e
SOFTMAX_SCRATCH = "results/runs/softmax-scratch/seed-0"


def output_of(result):
    return result.stdout + result.stderr


def real_data_config(local_dir, system_dir=None, mirrors=()):
    config = small_config()
    config["data"]["fashion_mnist"].update({"dir": "resources/fashion-mnist", "generate": None,
                                            "local_dir": str(local_dir), "system_dir": system_dir,
                                            "mirrors": list(mirrors), "retries": 1, "timeout_s": 2})
    return config


def leftover_files(workflow):
    """Files in resources/ and results/ (the temporary .part names included)."""
    return sorted(str(p.relative_to(workflow.folder)) for folder in ("resources", "results")
                  if (workflow.folder / folder).exists() for p in (workflow.folder / folder).rglob("*") if p.is_file())


@pytest.mark.parametrize("case", ["corrupted", "truncated", "wrongly named"])
def test_bad_data_file_is_named_and_nothing_is_left(workflow, tmp_path, case):
    local = tmp_path / "local"
    local.mkdir()
    payload = gzip.compress(np.random.default_rng(0).integers(0, 255, 20_000, dtype=np.uint8).tobytes())
    name = {"corrupted": "train-images-idx3-ubyte.gz", "truncated": "train-images-idx3-ubyte.gz",
            "wrongly named": "train-images.idx3-ubyte.gz"}[case]
    (local / name).write_bytes(payload[: len(payload) // 2] if case == "truncated" else payload)
    workflow.write_config(real_data_config(local))
    result = workflow.run("resources/fashion-mnist/manifest.json", check=False)
    message = output_of(result)
    assert result.returncode != 0
    assert "train-images-idx3-ubyte.gz" in message
    expected = {"corrupted": "failed verification", "truncated": "not a complete gzip file",
                "wrongly named": "rename to train-images-idx3-ubyte.gz"}[case]
    assert expected in message
    assert leftover_files(workflow) == []


@pytest.mark.parametrize("damage, expected", [
    ("magic", "bad magic number"),
    ("length", "wrong length"),
])
def test_malformed_idx_file_stops_training_with_its_name(workflow, damage, expected):
    workflow.write_config(small_config())
    workflow.run("resources/fashion-mnist-small/manifest.json")
    path = workflow.path("resources/fashion-mnist-small/t10k-labels-idx1-ubyte.gz")
    raw = bytearray(gzip.decompress(path.read_bytes()))
    if damage == "magic":
        raw[2] = 0x0B
    else:
        raw = raw[:-7]
    path.write_bytes(gzip.compress(bytes(raw)))
    result = workflow.run(f"{SOFTMAX_SCRATCH}/model.pt", check=False)
    assert result.returncode != 0
    assert f"t10k-labels-idx1-ubyte.gz: {expected}" in output_of(result)
    assert not workflow.path(SOFTMAX_SCRATCH).exists()


def test_no_data_and_no_network_lists_every_source_and_the_fixes(workflow, tmp_path):
    config = real_data_config(tmp_path / "no-such-folder", system_dir=str(tmp_path / "no-system-copy"),
                              mirrors=[dead_url()])
    workflow.write_config(config)
    result = workflow.run("resources/fashion-mnist/manifest.json", check=False)
    message = output_of(result)
    assert result.returncode != 0
    for expected in ["could not be found in any source", "data.fashion_mnist.local_dir", "no-such-folder",
                     "system copy", "no-system-copy", "download mirrors", "127.0.0.1",
                     "apt-get install dataset-fashion-mnist", "set data.fashion_mnist.local_dir"]:
        assert expected in message, expected
    assert leftover_files(workflow) == []


@pytest.mark.parametrize("dotted, value, key", [
    ("not_a_key", 1, "not_a_key"),
    ("softmax.epochs", 0, "softmax.epochs"),
    ("linreg.learning_rate", 0, "linreg.learning_rate"),
    ("softmax.batch_size", 0, "softmax.batch_size"),
    ("gates.softmax.min_test_accuracy", 1.2, "gates.softmax.min_test_accuracy"),
    ("softmax.learning_rate", "fast", "softmax.learning_rate"),
])
def test_bad_config_stops_before_any_job(workflow, dotted, value, key):
    config = small_config()
    node = config
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    workflow.write_config(config)
    result = workflow.run(check=False)
    assert result.returncode != 0
    assert "invalid config" in output_of(result) and key in output_of(result)
    assert not workflow.path("results").exists() and not workflow.path("resources").exists()


def test_divergence_fails_the_job_at_the_first_bad_epoch_and_the_run(workflow):
    config = small_config()
    config["linreg"]["learning_rate"] = 1000
    workflow.write_config(config)
    result = workflow.run("results/runs/linreg-scratch/seed-0/model.pt", check=False)
    assert result.returncode != 0
    assert "training diverged at epoch 1: train/loss = " in output_of(result)
    run = runs_by_name(workflow.tracking_uri, "nndl-small")["linreg-scratch-seed0"]
    assert run.info.status == "FAILED"
    assert metric_steps(workflow.tracking_uri, run.info.run_id, "train/loss") == [1]
    assert not workflow.path("results/runs/linreg-scratch").exists()


def start_and_wait_for_training(workflow, target, start_new_session=True):
    """Start Snakemake on `target`; return (process, run) once the softmax-scratch run is RUNNING."""
    process = subprocess.Popen(workflow.command(target), cwd=workflow.folder, env=workflow.environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=start_new_session)
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        # Read the store only once the pipeline has created it (two first users of sqlite race).
        if workflow.path("results/tracking/experiment.json").exists():
            run = runs_by_name(workflow.tracking_uri, "nndl-small").get("softmax-scratch-seed0")
            if run is not None and run.info.status == "RUNNING":
                time.sleep(2)  # well into its epochs
                return process, run
        time.sleep(0.5)
    process.kill()
    raise AssertionError(f"training never started:\n{process.communicate()[0]}")


def long_training_config(epochs=400):
    config = small_config()
    config["softmax"]["epochs"] = epochs  # about 0.04 s an epoch on the stand-in
    return config


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_pipeline_leaves_no_running_run_and_resumes(workflow, how):
    # Ctrl-C must land mid-training whatever the machine's load: give it a long one. SIGTERM lets
    # the job finish, so a shorter one keeps the test short.
    workflow.write_config(long_training_config(epochs=1500 if how == "ctrl-c" else 300))
    target = f"{SOFTMAX_SCRATCH}/metrics.json"
    process, run = start_and_wait_for_training(workflow, target)
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends the foreground group
    else:
        process.send_signal(signal.SIGTERM)  # Snakemake alone: it lets running jobs finish
    output = process.communicate(timeout=240)[0]
    assert process.returncode != 0, output
    status = runs_by_name(workflow.tracking_uri, "nndl-small")["softmax-scratch-seed0"].info.status
    model = workflow.path(f"{SOFTMAX_SCRATCH}/model.pt")
    if how == "ctrl-c":
        assert status == "KILLED" and not model.exists()
    else:
        assert status == "FINISHED" and model.exists()  # finished for real, not half-written
    assert not list(workflow.folder.rglob("*.part"))

    workflow.run(target)  # a plain rerun finishes the work: no --rerun-incomplete needed
    runs = runs_by_name(workflow.tracking_uri, "nndl-small")
    assert all(r.info.status in ("FINISHED", "KILLED") for r in runs.values())
    assert workflow.path(target).exists()


def test_sigkilled_job_run_is_marked_killed_at_the_next_start(workflow):
    workflow.write_config(long_training_config(epochs=1000))  # long enough to be caught running
    target = f"{SOFTMAX_SCRATCH}/model.pt"
    process, run = start_and_wait_for_training(workflow, target)
    os.kill(int(run.data.tags["nndl.pid"]), signal.SIGKILL)
    process.communicate(timeout=120)
    client_view = runs_by_name(workflow.tracking_uri, "nndl-small")["softmax-scratch-seed0"]
    assert client_view.info.status == "RUNNING"  # nobody could close it

    workflow.run(target)
    from mlflow.tracking import MlflowClient

    orphan = MlflowClient(tracking_uri=workflow.tracking_uri).get_run(run.info.run_id)
    assert orphan.info.status == "KILLED"


def test_orphan_sweep_leaves_live_processes_and_other_hosts_alone(tmp_path):
    from mlflow.tracking import MlflowClient

    from nndl import tracking

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = tracking.ensure_experiment(uri, "orphans")
    client = MlflowClient(tracking_uri=uri)
    host = tracking.process_identity()["host"]
    dead = subprocess.Popen(["true"])
    dead.wait()
    cases = {"live": (host, os.getpid()), "dead": (host, dead.pid), "elsewhere": ("other-host", dead.pid)}
    ids = {}
    for name, (run_host, pid) in cases.items():
        run = client.create_run(experiment_id, run_name=name,
                                tags={tracking.HOST_TAG: run_host, tracking.PID_TAG: str(pid)})
        ids[name] = run.info.run_id
    assert tracking.mark_orphaned_runs_killed(uri, "orphans") == [ids["dead"]]
    statuses = {name: client.get_run(run_id).info.status for name, run_id in ids.items()}
    assert statuses == {"live": "RUNNING", "dead": "KILLED", "elsewhere": "RUNNING"}


def test_seed_sweep_records_every_run_and_step(workflow):
    config = small_config()
    config["seeds"] = list(range(8))
    workflow.write_config(config)
    # Every seed's log_results job too: it writes the evaluation metrics into the runs, in parallel.
    targets = [f"results/tracking/seed-{seed}.json" for seed in range(8)]
    workflow.run(*targets, timeout=1800)
    runs = runs_by_name(workflow.tracking_uri, "nndl-small")
    assert len(runs) == 32
    for name, run in runs.items():
        task = name.split("-")[0]
        assert run.info.status == "FINISHED", name
        epochs = config[task]["epochs"]
        for key in ("train/loss", "test/loss", "epoch_seconds"):
            assert metric_steps(workflow.tracking_uri, run.info.run_id, key) == list(range(1, epochs + 1))
        assert "final/test_loss" in run.data.metrics
    histories = {seed: json.loads(workflow.path(f"results/runs/softmax-scratch/seed-{seed}/history.json")
                                  .read_text())["epochs"][-1]["train/loss"] for seed in range(8)}
    assert len(set(histories.values())) == 8  # every seed its own numbers

