"""Chunks in one process, with a real MLflow store: same numbers as recorded, complete runs are not
trained again, changed specs and code are, and a record always matches a FINISHED run.

Every test here trains and tracks, so all are in the e2e tier."""

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
import yaml
from mlflow.tracking import MlflowClient

from conftest import ROOT, SCHEMA, make_data, needs_system_fashion_mnist, run_chunk, run_id, small_config
from mlflow_store import artifact_paths, logged_models, metric_steps, statuses_by_name
from nndl.config.validate import validate
from nndl.errors import GateError, WriteError
from nndl.numerics import PORTABLE
from nndl.tasks.registry import TASKS
from nndl.runs import names, record
from nndl.runs.plan import resolve_runs

pytestmark = pytest.mark.e2e

RECORDED = ROOT / "tests" / "data" / "default-seed0-metrics.json"


def resolved_runs(raw_config: dict, task: str) -> list[dict]:
    return [spec for spec in resolve_runs(validate(raw_config, SCHEMA)) if spec.task == task]


def trained(manifest: dict) -> list[bool]:
    return [row["trained"] for row in manifest["runs"]]


def finished_runs(name):
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("chunks")
    return client.search_runs([experiment.experiment_id], filter_string=f"attributes.run_name = '{name}' "
                                                                         "and attributes.status = 'FINISHED'")


@needs_system_fashion_mnist
def test_default_config_gives_the_recorded_numbers(project):
    """The default runs (seed 0, real Fashion-MNIST) with the portable numerics (set by conftest
    before torch was imported) give the recorded metrics: the classifiers' to the last bit on any
    x86-64 CPU with AVX2, the regressions' to 1e-4 of their value (docs/numbers.md: a Zen 3 without
    AVX-512 ends its 300 steps on (10, 2) minibatches an ulp or so apart from the Zen 4 that recorded
    them, which moves its losses by 2e-6 of their value; no MKL_CBWR mode changes its numbers).
    Recorded once on one machine (2026-12-07, an AMD EPYC with AVX-512) by this test itself:
    NNDL_RECORD_NUMBERS=1 pytest -k recorded_numbers writes the file, then fails to say so."""
    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text()) | {"numerics": PORTABLE}
    make_data(raw)  # the verified Debian copy
    numbers, regression = {}, set()
    for task in TASKS:
        runs = resolved_runs(raw, task)
        run_chunk(runs, f"{task}.json")
        for spec in runs:
            history = json.loads((project / spec.dir / names.HISTORY).read_text())
            metrics = json.loads((project / spec.dir / names.METRICS).read_text())
            last = {key: value for key, value in history["epochs"][-1].items() if key not in ("epoch", "epoch_seconds")}
            numbers[names.learner(spec.task, spec.impl)] = {**last, **metrics["summary"], **history["untrained"]}
            if not spec.definition.classify:
                regression.add(names.learner(spec.task, spec.impl))
    if os.environ.get("NNDL_RECORD_NUMBERS") == "1":
        RECORDED.write_text(json.dumps(numbers, indent=1) + "\n")
        pytest.fail(f"recorded {RECORDED} on this machine: check its diff, and run again without NNDL_RECORD_NUMBERS")
    recorded = json.loads(RECORDED.read_text())
    assert numbers.keys() == recorded.keys()
    for learner, found in numbers.items():
        # A regression's numbers to 1e-4 of their value, a classifier's to the last bit. A regression's small
        # minibatches' sums may end an ulp apart on another CPU (linear regression's losses 2e-6 apart after
        # its 300 steps); model selection's 4000 steps carry such differences along the cubic's slow
        # directions, which no step damps (up to about 13 times as far), and its least squares is LAPACK's.
        loose = set(found) if learner in regression else set()
        assert {key: value for key, value in found.items() if key not in loose} == \
            {key: value for key, value in recorded[learner].items() if key not in loose}, learner
        assert {key: found[key] for key in loose} == pytest.approx({key: recorded[learner][key] for key in loose},
                                                                    rel=1e-4, abs=0), learner


def test_complete_runs_are_skipped_and_changed_specs_retrained(project):
    raw = small_config(seeds=[0, 1])
    make_data(raw)
    runs = resolved_runs(raw, "linreg")
    first = run_chunk(runs)
    assert trained(first) == [True] * 4
    # The job's warm-up is its own, paid before the first run's clock; none when nothing trains.
    assert first["seconds"]["warm_up"] > 0 and first["seconds"]["in_job"] > first["seconds"]["warm_up"]
    first_ids = [run_id(spec) for spec in runs]
    again = run_chunk(runs)
    assert trained(again) == [False] * 4 and again["seconds"]["warm_up"] == 0
    assert [run_id(spec) for spec in runs] == first_ids

    changed = copy.deepcopy(raw)
    changed["linreg"]["epochs"] = 4
    runs = resolved_runs(raw, "linreg")[:2] + resolved_runs(changed, "linreg")[2:]  # seed 1 changed
    third = run_chunk(runs)
    assert trained(third) == [False, False, True, True]
    for row, spec in zip(third["runs"], runs):
        assert len(finished_runs(row["name"])) == (2 if row["trained"] else 1)
        assert (run_id(spec) == first_ids[runs.index(spec)]) != row["trained"]
        assert record.read(spec.dir).spec.settings.epochs == spec.settings.epochs
    # Each spec has its own folder: switching back retrains nothing and records nothing new.
    assert trained(run_chunk(resolved_runs(raw, "linreg"))) == [False] * 4
    assert [run_id(spec) for spec in resolved_runs(raw, "linreg")] == first_ids


def test_changed_gates_are_checked_not_retrained(trained_linreg):
    runs = trained_linreg
    first_ids = [run_id(spec) for spec in runs]
    stricter = small_config()
    stricter["gates"]["linreg"]["max_param_error"] = 1e-9
    with pytest.raises(GateError, match="linreg-scratch-seed0 missed its gates: max \\|w error\\|.*relax gates.linreg"):
        run_chunk(resolved_runs(stricter, "linreg"))
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    failed = client.get_run(first_ids[0])
    assert failed.info.status == "FAILED" and failed.data.tags["outcome"].startswith("missed its gates")
    assert record.read(runs[0].dir).status == "FAILED"
    looser = small_config()
    looser["gates"]["linreg"]["max_param_error"] = 0.5
    assert trained(run_chunk(resolved_runs(looser, "linreg"))) == [False, False]
    assert [run_id(spec) for spec in runs] == first_ids
    assert [client.get_run(run).info.status for run in first_ids] == ["FINISHED", "FINISHED"]
    assert client.get_run(first_ids[0]).data.tags["outcome"] == "ok"


def test_a_gate_miss_keeps_the_runs_before_it_and_a_rerun_trains_the_rest(project):
    """Seeds ordered so that the last one's final train loss is the highest; a gate just below it
    fails that run only, after the runs before it are complete."""
    seeds = [0, 1, 2]
    losses = {seed: softmax_train_loss(seed) for seed in seeds}
    order = sorted(seeds, key=losses.get)
    raw = small_config(seeds=order)
    raw["gates"]["softmax"]["max_train_loss"] = (losses[order[-1]] + losses[order[-2]]) / 2
    make_data(raw)
    runs = resolved_runs(raw, "softmax")
    with pytest.raises(GateError, match=f"softmax-scratch-seed{order[-1]} missed its gates: train/loss"):
        run_chunk(runs)
    kept = complete_records()
    assert sorted(kept) == sorted(f"softmax-{impl}-seed{seed}" for seed in order[:2] for impl in ("scratch", "concise"))
    statuses = statuses_by_name(os.environ["MLFLOW_TRACKING_URI"], "chunks")
    assert statuses.pop(f"softmax-scratch-seed{order[-1]}") == ["FAILED"]
    assert statuses == {name: ["FINISHED"] for name in kept}
    assert all((project / spec.dir / names.MODEL).exists() for spec in runs if spec.name in kept)

    relaxed = resolved_runs(small_config(seeds=order), "softmax")  # the runs are not trained again
    manifest = run_chunk(relaxed)
    assert [row["name"] for row in manifest["runs"] if row["trained"]] == [
        f"softmax-{impl}-seed{order[-1]}" for impl in ("scratch", "concise")]
    assert {name: complete_records()[name] for name in kept} == kept


def complete_records() -> dict[str, str]:
    """{run name: its record's text} of the complete runs under the working directory."""
    return {json.loads(path.read_text())["name"]: path.read_text()
            for path in Path("results/runs").rglob(names.RECORD)}


def softmax_train_loss(seed):
    """The final train loss of softmax regression from scratch on the small config's stand-in."""
    import torch

    from nndl.data.stand_in import generate_stand_in
    from nndl.data.tensors import fashion_mnist_split
    from nndl.learn.learners import build_learner
    from nndl.learn.loop import fit

    config = small_config()
    generate = config["data"]["fashion_mnist"]["generate"]
    (spec, _) = resolved_runs(config, "softmax")
    with tempfile.TemporaryDirectory() as folder:
        generate_stand_in(folder, generate["train"], generate["test"], generate["seed"])
        cpu = torch.device("cpu")
        train, test = fashion_mnist_split(folder, "train", cpu), fashion_mnist_split(folder, "test", cpu)
    generator = torch.Generator().manual_seed(seed)
    learner = build_learner(spec, generator, cpu)
    history = fit(learner, train, test, spec.settings.batch_size, spec.settings.epochs, generator, classify=True)
    return history["epochs"][-1]["train/loss"]


@pytest.fixture
def trained_linreg(project) -> list[dict]:
    """The small config's two linreg runs, trained and recorded in the `project` store."""
    raw = small_config()
    make_data(raw)
    runs = resolved_runs(raw, "linreg")
    run_chunk(runs)
    return runs


def live_runs_named(name: str, experiment: str = "chunks") -> list:
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id], filter_string=f"attributes.run_name = '{name}'")


def test_a_lost_mlflow_run_is_recorded_again_from_the_files_without_training(trained_linreg, project):
    runs = trained_linreg
    before = {spec.name: (project / spec.dir / names.RECORD).read_bytes() for spec in runs}
    original = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"]).get_run(run_id(runs[1]))
    for _ in range(2):  # the second time, the records are there: nothing is added
        assert trained(run_chunk(runs, experiment="elsewhere")) == [False, False]
        for spec in runs:
            (again,) = live_runs_named(spec.name, "elsewhere")
            assert again.info.status == "FINISHED" and again.data.tags["outcome"] == "ok"
            assert metric_steps(os.environ["MLFLOW_TRACKING_URI"], again.info.run_id, "train/loss") == \
                list(range(1, spec.settings.epochs + 1))
            assert {"model.pt", "history.json", "metrics.json", "predictions.json"} <= \
                artifact_paths(os.environ["MLFLOW_TRACKING_URI"], again.info.run_id)
            assert (project / spec.dir / names.RECORD).read_bytes() == before[spec.name]
    assert again.data.params == original.data.params
    assert again.data.metrics == original.data.metrics
    assert logged_models(os.environ["MLFLOW_TRACKING_URI"], again.info.run_id)  # the concise run's Model


def test_lost_files_retrain_and_replace_the_old_record(trained_linreg, project):
    import shutil

    runs = trained_linreg
    old = run_id(runs[0])
    shutil.rmtree(project / runs[0].dir)
    assert trained(run_chunk(runs)) == [True, False]
    (new,) = live_runs_named(runs[0].name)
    assert new.info.run_id != old and new.info.status == "FINISHED"
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    assert client.get_run(old).info.lifecycle_stage == "deleted"


def test_an_unfinished_record_is_replaced_by_one_from_the_files(trained_linreg):
    """A run whose record never became whole (the server went away mid-run) is deleted, and the
    complete files are recorded again: one live run, every step once."""
    from nndl.tracking.tags import RECORDED_TAG

    runs = trained_linreg
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    partial = run_id(runs[0])
    client.delete_tag(partial, RECORDED_TAG)
    client.set_terminated(partial, status="FAILED")
    assert trained(run_chunk(runs)) == [False, False]
    (again,) = live_runs_named(runs[0].name)
    assert again.info.run_id != partial and again.info.status == "FINISHED"
    assert client.get_run(partial).info.lifecycle_stage == "deleted"
    assert metric_steps(os.environ["MLFLOW_TRACKING_URI"], again.info.run_id, "train/loss") == \
        list(range(1, runs[0].settings.epochs + 1))


def test_a_record_whose_run_was_not_ended_finished_is_repaired(trained_linreg):
    """A SIGKILL between the record and the end of the run: outputs whole, run set FINISHED again."""
    runs = trained_linreg
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    victim = run_id(runs[1])
    client.set_terminated(victim, status="KILLED")
    assert trained(run_chunk(runs)) == [False, False]
    assert client.get_run(victim).info.status == "FINISHED"


def test_edited_training_code_retrains_that_tasks_runs_only(project, monkeypatch):
    from nndl.runs import code, job

    raw = small_config()
    make_data(raw)
    run_chunk(resolved_runs(raw, "linreg"))
    run_chunk(resolved_runs(raw, "softmax"), "softmax.json")
    monkeypatch.setattr(job, "training_code", lambda task: "edited" if task.name == "softmax" else code.training_code(task))
    assert trained(run_chunk(resolved_runs(raw, "linreg"))) == [False, False]
    assert trained(run_chunk(resolved_runs(raw, "softmax"), "softmax.json")) == [True, True]


def test_saved_weights_are_cpu_tensors_with_the_trained_values(project):
    raw = small_config()
    make_data(raw)
    runs = resolved_runs(raw, "softmax")
    run_chunk(runs)
    for spec in runs:
        state = torch.load(project / spec.dir / names.MODEL, weights_only=True)  # no map_location
        assert state and all(tensor.device.type == "cpu" for tensor in state.values())
        done = record.read(spec.dir)
        assert done.name == spec.name and done.status == "FINISHED" and done.outcome is None
        assert MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"]).get_run(
            run_id(spec)).info.status == "FINISHED"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small tmpfs: run as root (CI does)")
def test_a_full_disk_names_the_folder_and_the_rerun_finishes(project):
    """The results fill the disk while a chunk writes its second run: one message naming the folder
    and the fix, the first run complete, nothing half-written; with space again the plain rerun
    trains only the rest."""
    import subprocess

    raw = small_config()
    make_data(raw)
    runs = resolved_runs(raw, "softmax")
    run_chunk(runs[:1], "first.json")  # the first run, to measure the room its files take
    results = project / names.RUNS_ROOT
    first = {path.relative_to(results): path.read_bytes() for path in results.rglob("*") if path.is_file()}
    pages = sum(-(-len(data) // 4096) * 4096 for data in first.values())
    shutil.rmtree(results)
    results.mkdir(parents=True)
    # Room for the first run's files and half of the second's (the two take about the same).
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={pages * 3 // 2}", "tmpfs", str(results)], check=True)
    for relative, data in first.items():
        (results / relative).parent.mkdir(parents=True, exist_ok=True)
        (results / relative).write_bytes(data)
    try:
        with pytest.raises(WriteError) as full:
            run_chunk(runs, "softmax.json")
        message = str(full.value)
        folder = (project / runs[1].dir).resolve()
        assert f"the disk holding {folder} is full" in message and "run snakemake again" in message
        assert record.complete(runs[0], *_keys(runs[0])) is not None  # the first run is kept
        assert not (project / runs[1].dir / names.RECORD).exists()
        assert not list(results.rglob("*.part"))
        copied = {path.relative_to(results): path.read_bytes() for path in results.rglob("*") if path.is_file()}
    finally:
        subprocess.run(["umount", str(results)], check=True)
    for relative, data in copied.items():  # the same files on a disk with room
        (results / relative).parent.mkdir(parents=True, exist_ok=True)
        (results / relative).write_bytes(data)
    assert trained(run_chunk(runs, "softmax.json")) == [False, True]
    assert statuses_by_name(os.environ["MLFLOW_TRACKING_URI"], "chunks") == {
        spec.name: ["FINISHED"] for spec in runs}


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a read-only tmpfs: run as root (CI does)")
def test_a_results_folder_that_cannot_be_written_is_said_before_training(project):
    import subprocess

    raw = small_config()
    make_data(raw)
    runs = resolved_runs(raw, "softmax")
    results = project / names.RUNS_ROOT
    results.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(results)], check=True)
    try:
        with pytest.raises(WriteError) as refused:
            run_chunk(runs, "softmax.json")
    finally:
        subprocess.run(["umount", str(results)], check=True)
    message = str(refused.value)
    assert f"{(project / runs[0].dir).resolve()} cannot be written by this user (Read-only file system)" in message
    assert "Make it writable" in message and "run snakemake again" in message
    assert not (project / "softmax.json").exists()


def _keys(spec) -> tuple[str, str]:
    from nndl.data.tensors import dataset_identity
    from nndl.runs.code import training_code

    return training_code(spec.definition), dataset_identity(spec.data)["digest"]
