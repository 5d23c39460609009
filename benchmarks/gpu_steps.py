"""The steps of the GPU check (benchmarks/gpu_check.py): training with the data resident on the
device, a softmax study in one process, and the pipeline up to the training chunks."""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks import training_variants
from benchmarks.common import ROOT, SCHEMA, say
from benchmarks.project import copy_workflow, snakemake

CPU_METRICS = ROOT / "tests" / "data" / "default-seed0-metrics.json"
STUDY_RATES = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5]


def stand_in(folder: Path) -> Path:
    """A small generated Fashion-MNIST stand-in with its manifest (for a quick run on the CPU)."""
    from nndl.data.stand_in import generate_stand_in
    from nndl.files import write_json

    write_json(generate_stand_in(folder, 2000, 500, seed=0), folder / "manifest.json")
    return folder


def training(data: Path, device: str, epochs: int) -> dict:
    """Softmax regression three ways, data resident on the device: first and median epoch, accuracy."""
    rows = {}
    for variant in ("scratch", "concise", "floor"):
        if variant == "floor":
            result = training_variants.floor(data, epochs, device)
        else:
            result = training_variants.project(variant, data, epochs, device)
        seconds = result["epoch_seconds"]
        rows[variant] = {"epochs": epochs, "first_epoch_s": seconds[0],
                         "median_epoch_s": statistics.median(seconds[1:] or seconds),
                         "test_accuracy": result["test_accuracy"]}
        say(f"  {variant:<8} first epoch {seconds[0]:.4f} s, median epoch {rows[variant]['median_epoch_s']:.4f} s, "
            f"test accuracy {result['test_accuracy']:.4f}")
    return rows


def study_runs(data: Path, device: str, rates: int, seeds: int, epochs: int) -> list:
    from nndl.config.validate import validate
    from nndl.runs.plan import resolve_runs

    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    raw["device"] = device
    raw["data"]["fashion_mnist"].update({"dir": str(data), "generate": None})
    raw["studies"] = [{"name": "gpu-lr", "question": "Learning rate x seeds, on the GPU", "task": "softmax",
                       "impls": ["scratch"], "vary": {"learning_rate": STUDY_RATES[:rates]},
                       "set": {"epochs": epochs}, "seeds": list(range(seeds))}]
    return [spec for spec in resolve_runs(validate(raw, SCHEMA)) if spec.study]


def study(data: Path, device: str, rates: int, seeds: int, epochs: int) -> dict:
    """rates x seeds softmax runs trained one after another in one process: training and evaluation
    alone (nndl.learn.run), then, when MLflow imports, as a chunk job trains them."""
    import torch

    from nndl.data.tensors import load_task_data
    from nndl.learn.device import resolve_device
    from nndl.learn.run import train_and_evaluate
    from nndl.runs.outcome import outcome

    runs, target = study_runs(data, device, rates, seeds, epochs), resolve_device(device)
    task_data = load_task_data(runs[0].data, target)
    started = time.perf_counter()
    outcomes = [outcome(spec, train_and_evaluate(spec, task_data, target).history) for spec in runs]
    if target.type == "cuda":
        torch.cuda.synchronize()
    row = {"runs": len(runs), "epochs": epochs, "wall_s": time.perf_counter() - started,
           "diverged_or_missed_gates": sum(found is not None for found in outcomes)}
    say(f"  {len(runs)} runs of {epochs} epochs, training and evaluation: {row['wall_s']:.1f} s "
        f"({row['wall_s'] / len(runs):.3f} s a run); {row['diverged_or_missed_gates']} with an outcome other than ok")
    if importlib.util.find_spec("mlflow") is not None:
        row["chunk_wall_s"] = tracked_chunk(runs)
        say(f"  the same runs as a chunk job trains them (MLflow, files): {row['chunk_wall_s']:.1f} s "
            f"({row['chunk_wall_s'] / len(runs):.3f} s a run)")
    return row


def tracked_chunk(runs: list) -> float:
    """Wall seconds of nndl.runs.chunk_job.run_chunk on `runs`, in a fresh sqlite store and folder."""
    from nndl.runs.chunk_job import run_chunk

    with tempfile.TemporaryDirectory() as scratch, open(os.devnull, "w") as quiet:
        previous = Path.cwd()
        os.chdir(scratch)  # the runs' folders and the MLflow store go here
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{scratch}/mlflow.db"
        try:
            started = time.perf_counter()
            run_chunk(runs, "chunk.json", "gpu-check", "p-gpu-check", ROOT, source="benchmarks/gpu_check.py", log=quiet,
                      console=quiet)
            return time.perf_counter() - started
        finally:
            os.chdir(previous)
            del os.environ["MLFLOW_TRACKING_URI"]


def pipeline(config_name: str, device: str, data: Path | None, tasks: list[str] | None = None) -> list:
    """The config with `device` (and `tasks`, where given) up to the training chunks; what each
    MLflow run recorded."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = copy_workflow(Path(scratch) / "project")
        config = yaml.safe_load((ROOT / "config" / config_name).read_text())
        config["device"] = device
        if tasks:
            config["tasks"] = tasks
        if data is not None:  # the data this project already verified: no download
            config["data"]["fashion_mnist"].update({"local_dir": str(data), "mirrors": []})
        (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
        seconds = snakemake(folder, "--scheduler", "greedy", "--until", "train_chunk")
        return [run_row(path.parent, folder, config, config_name, device, seconds)
                for path in sorted((folder / "results" / "runs").rglob("history.json"))]


def run_row(run_folder: Path, project: Path, config: dict, config_name: str, device: str, seconds: float) -> dict:
    """One run of the pipeline step: its device, epochs, accuracy against the CPU's, MLflow's tags."""
    from mlflow.tracking import MlflowClient

    from nndl.runs.project import project_identity
    from nndl.runs.names import learner
    from nndl.runs.record import read
    from nndl.runs.recorded import mlflow_runs

    history = json.loads((run_folder / "history.json").read_text())
    metrics = json.loads((run_folder / "metrics.json").read_text())
    found, uri = read(run_folder), f"sqlite:///{project / 'mlflow.db'}"
    project_id = project_identity(project)
    run_id = mlflow_runs(uri, config["mlflow"]["experiment"], project_id, [run_folder]).get(str(run_folder))
    tags = MlflowClient(tracking_uri=uri).get_run(run_id).data.tags if run_id else {}
    epochs = [entry["epoch_seconds"] for entry in history["epochs"]]
    key = learner(found.spec.task, found.spec.impl)
    cpu = json.loads(CPU_METRICS.read_text()).get(key, {}).get("test/accuracy") if config_name == "config.yaml" else None
    accuracy = metrics.get("test/accuracy")
    row = {"config": config_name, "run": found.name, "device_name": history.get("device_name", "?"),
           "first_epoch_s": epochs[0], "median_epoch_s": statistics.median(epochs[1:] or epochs),
           "test_accuracy": accuracy, "cpu_test_accuracy": cpu,
           "accuracy_gap_points": None if cpu is None or accuracy is None else 100 * abs(accuracy - cpu),
           "mlflow_device": tags.get("device", "(no tag)"), "mlflow_device_name": tags.get("device_name", "(no tag)"),
           "pipeline_s": seconds}
    row["recorded_device"] = (row["mlflow_device"].startswith(device.split(":")[0])
                              and row["mlflow_device_name"] == row["device_name"])
    gap = f", {row['accuracy_gap_points']:.2f} points from the CPU" if row["accuracy_gap_points"] is not None else ""
    say(f"  {config_name + ' ':<16}{row['run'] + ' ':<32}{row['device_name'][:26]:<28}{row['first_epoch_s']:>8.4f} s"
        f"{row['median_epoch_s']:>8.4f} s  accuracy {accuracy if accuracy is not None else '-'}{gap}; "
        f"MLflow: {row['mlflow_device']} / {row['mlflow_device_name']}"
        + ("" if row["recorded_device"] else "  <- NOT the requested device"))
    return row
