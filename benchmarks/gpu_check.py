"""GPU check: everything the project wants to know from a lent GPU machine, in one call.

    python3 benchmarks/gpu_check.py --out "$OUT"            # there (README "On a GPU" has the call)
    .venv/bin/python benchmarks/gpu_check.py --device cpu --stand-in --epochs 2 --study-rates 2 \\
        --study-seeds 2 --configs small.yaml                # here: the same steps, small, on the CPU

1. The device. 2. Softmax regression on Fashion-MNIST with the data resident on the device, 10
epochs each: the project's scratch and concise training (nndl.training.fit) and the floor loop
(benchmarks/training_variants.py); the first epoch apart, the median of the others. 3. A 100-run
softmax study (10 learning rates x 10 seeds) in one process: the project's training and evaluation of each run
(nndl.runs), then the same runs as a chunk job trains them (nndl.chunks.run_chunk: tracked in a
fresh sqlite MLflow store, files written), when MLflow imports. 4. When Snakemake and MLflow import: the default config with `device: cuda` up to the training
chunks, checking that every MLflow run recorded the GPU's name and that test accuracy is within 0.5
points of the CPU run of the same seed (tests/data/default-seed0-metrics.json).

Each figure is printed as soon as it is measured and gpu-check.json in --out is rewritten after each
step; a step that fails is reported and the next one still runs. Exits 2 without a CUDA device
(unless --device cpu), 1 if a step failed or (on a GPU) a target was missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, copy_workflow, dataset_folder, snakemake  # noqa: E402

# The package from this checkout, for this process and the Snakemake jobs it starts: on the GPU
# machine nothing is installed, the checkout and the carried wheels (PYTHONPATH) are all there is.
sys.path.insert(0, str(ROOT / "src"))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CPU_METRICS = ROOT / "tests" / "data" / "default-seed0-metrics.json"
TARGETS = {"median_epoch_s": 0.01, "study_s": 10.0, "accuracy_gap_points": 0.5}
STUDY_RATES = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5]


def say(text: str) -> None:
    print(text, flush=True)


def stand_in(folder: Path) -> Path:
    """A small generated Fashion-MNIST stand-in with its manifest (for a quick run on the CPU)."""
    from nndl import fashion_mnist

    manifest = fashion_mnist.generate_stand_in(folder, 2000, 500, seed=0)
    fashion_mnist.write_manifest(manifest, folder / "manifest.json")
    return folder


def training(data: Path, device: str, epochs: int) -> dict:
    """Softmax regression three ways, data resident on the device: first and median epoch, accuracy."""
    import training_variants

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


def study(data: Path, device: str, rates: int, seeds: int, epochs: int) -> dict:
    """rates x seeds softmax runs (scratch) trained one after another in one process: the training
    and evaluation alone (nndl.runs), then, when MLflow imports, as a chunk job trains them
    (nndl.chunks.run_chunk: each run also tracked in a fresh sqlite store, its files written)."""
    import torch

    from nndl import config, specs
    from nndl import runs as run_module
    from nndl.datasets import load_task_data
    from nndl.device import resolve_device

    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    raw["device"] = device
    raw["data"]["fashion_mnist"].update({"dir": str(data), "generate": None})
    raw["studies"] = [{"name": "gpu-lr", "question": "Learning rate x seeds, on the GPU", "task": "softmax",
                       "impls": ["scratch"], "vary": {"learning_rate": STUDY_RATES[:rates]},
                       "set": {"epochs": epochs}, "seeds": list(range(seeds))}]
    runs = [spec for spec in specs.resolve_runs(config.validate(raw, SCHEMA)) if "study" in spec]
    target = resolve_device(device)
    task_data = load_task_data("softmax", data, target)
    started = time.perf_counter()
    outcomes = [run_module.outcome(spec, run_module.train_and_evaluate(spec, task_data, target).history)
                for spec in runs]
    if target.type == "cuda":
        torch.cuda.synchronize()
    row = {"runs": len(runs), "epochs": epochs, "wall_s": time.perf_counter() - started,
           "diverged_or_missed_gates": sum(outcome is not None for outcome in outcomes)}
    say(f"  {len(runs)} runs of {epochs} epochs, training and evaluation: {row['wall_s']:.1f} s "
        f"({row['wall_s'] / len(runs):.3f} s a run); {row['diverged_or_missed_gates']} with an outcome other than ok")
    if importlib.util.find_spec("mlflow") is None:
        return row
    from nndl.chunks import run_chunk

    with tempfile.TemporaryDirectory() as scratch:
        previous = Path.cwd()
        os.chdir(scratch)  # the runs' folders and the MLflow store go here
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{scratch}/mlflow.db"
        try:
            started = time.perf_counter()
            run_chunk(runs, "chunk.json", "gpu-check", ROOT, threads=1, source="benchmarks/gpu_check.py",
                      log=open(os.devnull, "w"), console=open(os.devnull, "w"))
            row["chunk_wall_s"] = time.perf_counter() - started
        finally:
            os.chdir(previous)
    say(f"  the same runs as a chunk job trains them (MLflow, files): {row['chunk_wall_s']:.1f} s "
        f"({row['chunk_wall_s'] / len(runs):.3f} s a run)")
    return row


def pipeline(config_name: str, device: str, data: Path | None) -> list[dict]:
    """The config with `device` up to the training chunks; what each MLflow run recorded."""
    from mlflow.tracking import MlflowClient

    recorded = json.loads(CPU_METRICS.read_text())
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = copy_workflow(Path(scratch) / "project")
        config = yaml.safe_load((ROOT / "config" / config_name).read_text())
        config["device"] = device
        if data is not None:  # the data this project already verified: no download
            config["data"]["fashion_mnist"].update({"local_dir": str(data), "mirrors": []})
        (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
        seconds = snakemake(folder, "--scheduler", "greedy", "--until", "train_chunk")
        client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
        for path in sorted((folder / "results" / "runs").rglob("history.json")):
            history = json.loads(path.read_text())
            metrics = json.loads((path.parent / "metrics.json").read_text())
            tags = client.get_run(history["run_id"]).data.tags
            epochs = [record["epoch_seconds"] for record in history["epochs"]]
            key = history["run_name"].rsplit("-seed", 1)[0]
            cpu = recorded.get(key, {}).get("test/accuracy") if config_name == "config.yaml" else None
            accuracy = metrics.get("test/accuracy")
            row = {"config": config_name, "run": history["run_name"], "device_name": history.get("device_name", "?"),
                   "first_epoch_s": epochs[0], "median_epoch_s": statistics.median(epochs[1:] or epochs),
                   "test_accuracy": accuracy, "cpu_test_accuracy": cpu,
                   "accuracy_gap_points": None if cpu is None or accuracy is None else 100 * abs(accuracy - cpu),
                   "mlflow_device": tags.get("device", "(no tag)"),
                   "mlflow_device_name": tags.get("device_name", "(no tag)"), "pipeline_s": seconds}
            row["recorded_device"] = (row["mlflow_device"].startswith(device.split(":")[0])
                                      and row["mlflow_device_name"] == row["device_name"])
            rows.append(row)
            gap = f", {row['accuracy_gap_points']:.2f} points from the CPU" if row["accuracy_gap_points"] is not None else ""
            say(f"  {config_name:<12}{row['run']:<24}{row['device_name'][:26]:<28}{row['first_epoch_s']:>8.4f} s"
                f"{row['median_epoch_s']:>8.4f} s  accuracy {accuracy if accuracy is not None else '-'}{gap}; "
                f"MLflow: {row['mlflow_device']} / {row['mlflow_device_name']}"
                + ("" if row["recorded_device"] else "  <- NOT the requested device"))
    return rows


def verdicts(results: dict) -> list[tuple[str, bool]]:
    """Each target as (what was measured, met)."""
    found = []
    if "training" in results:
        epoch = max(results["training"][impl]["median_epoch_s"] for impl in ("scratch", "concise"))
        found.append((f"softmax epoch, data resident: {epoch:.4f} s (<= {TARGETS['median_epoch_s']})",
                      epoch <= TARGETS["median_epoch_s"]))
    if "study" in results:
        row = results["study"]
        bound = TARGETS["study_s"] * row["runs"] / 100
        found.append((f"{row['runs']}-run study in one process: {row['wall_s']:.1f} s (<= {bound:g})",
                      row["wall_s"] <= bound))
        if "chunk_wall_s" in row:
            found.append((f"the same, tracked in MLflow as a chunk job: {row['chunk_wall_s']:.1f} s (<= {bound:g})",
                          row["chunk_wall_s"] <= bound))
    rows = results.get("pipeline", [])
    if rows:
        found.append(("every MLflow run recorded the device's name", all(row["recorded_device"] for row in rows)))
        gaps = [row["accuracy_gap_points"] for row in rows if row["accuracy_gap_points"] is not None]
        if gaps:
            found.append((f"test accuracy within {TARGETS['accuracy_gap_points']} points of the CPU run: "
                          f"largest gap {max(gaps):.2f}", max(gaps) <= TARGETS["accuracy_gap_points"]))
    return found


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu, to try the script without a GPU")
    parser.add_argument("--configs", nargs="*", default=["config.yaml"], help="pipeline runs (step 4)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of step 2 and of each study run")
    parser.add_argument("--study-rates", type=int, default=10, help="learning rates in the study (at most 10)")
    parser.add_argument("--study-seeds", type=int, default=10, help="seeds in the study")
    parser.add_argument("--stand-in", action="store_true", help="a small generated dataset instead of Fashion-MNIST")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or ROOT / "results" / "benchmarks"))
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        say("No CUDA device here (torch.cuda.is_available() is False): the GPU check was not run.")
        return 2
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    results: dict = {"device": args.device, "device_name": name, "torch": torch.__version__,
                     "python": sys.version.split()[0], "targets": TARGETS, "failures": []}
    out = args.out / "gpu-check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    say(f"GPU check on {name} ({args.device}), torch {torch.__version__}, Python {results['python']}; "
        f"snakemake {'importable' if importlib.util.find_spec('snakemake') else 'missing'}, "
        f"mlflow {'importable' if importlib.util.find_spec('mlflow') else 'missing'}")
    with tempfile.TemporaryDirectory() as scratch:
        data = stand_in(Path(scratch)) if args.stand_in else dataset_folder()
        steps = [("training", lambda: training(data, args.device, args.epochs)),
                 ("study", lambda: study(data, args.device, args.study_rates, args.study_seeds, args.epochs))]
        if importlib.util.find_spec("snakemake") and importlib.util.find_spec("mlflow"):
            steps.append(("pipeline", lambda: [row for config_name in args.configs for row in pipeline(
                config_name, args.device, None if config_name == "small.yaml" else data)]))
        else:
            say("Snakemake or MLflow is missing: the pipeline step is skipped (scripts/gpu-wheels.sh carries them)")
        for step, function in steps:
            say(f"{step}:")
            started = time.perf_counter()
            try:
                results[step] = function()
            except Exception:  # report it, and still run and write what else can be measured
                results["failures"].append({"step": step, "error": traceback.format_exc()})
                say(f"  FAILED after {time.perf_counter() - started:.1f} s\n{traceback.format_exc()}")
            out.write_text(json.dumps(results, indent=2) + "\n")
    results["verdicts"] = [{"target": text, "met": met} for text, met in verdicts(results)]
    out.write_text(json.dumps(results, indent=2) + "\n")
    say("targets:")
    for row in results["verdicts"]:
        say(f"  {row['target']}: {'met' if row['met'] else 'MISSED'}")
    say(f"Written: {out}")
    missed = args.device.startswith("cuda") and not all(row["met"] for row in results["verdicts"])
    return 1 if results["failures"] or missed else 0


if __name__ == "__main__":
    sys.exit(main())
