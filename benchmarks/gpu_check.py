"""GPU check: everything the project wants to know from a lent GPU machine, in one call.

    python3 benchmarks/gpu_check.py --out "$OUT"            # there (docs/performance.md, "On a GPU", has the call)
    .venv/bin/python benchmarks/gpu_check.py --device cpu --stand-in --epochs 2 --study-rates 2 \\
        --study-seeds 2 --configs small.yaml                # here: the same steps, small, on the CPU
    python -m benchmarks.gpu_check ...                      # the same, as a module

1. The device. 2. Softmax regression on Fashion-MNIST with the data resident on the device, 10
epochs each: the project's scratch and concise training (nndl.learn.loop.fit) and the floor loop
(benchmarks/training_variants.py); the first epoch apart, the median of the others. 3. A 100-run
softmax study (10 learning rates x 10 seeds) in one process: the project's training and evaluation
(nndl.learn.run), then the same runs as a chunk job trains them (nndl.runs.chunk_job.run_chunk: tracked
in a fresh sqlite MLflow store, files written), when MLflow imports. 4. When Snakemake and MLflow
import: the default config with `device: cuda` up to the training chunks, checking that every
MLflow run recorded the GPU's name and that test accuracy is within 0.5 points of the CPU run of
the same seed (tests/data/default-seed0-metrics.json).

Each figure is printed as soon as it is measured and gpu-check.json in --out is rewritten after each
step; a step that fails is reported and the next one still runs. The verdicts are stored in it as
data. Exits 2 without a CUDA device (unless --device cpu), 1 if a step failed or (on a GPU) a
target was missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    # Run as a plain script (`python3 benchmarks/gpu_check.py`): the lent GPU machine has nothing
    # installed, so this is the one place a benchmark puts the checkout (for `benchmarks`) and its
    # src (for `nndl`) on sys.path. The Snakemake jobs get the copy's src through PYTHONPATH.
    sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "src")]

import argparse
import importlib.util
import json
import os
import tempfile
import time
import traceback

from benchmarks import gpu_steps
from benchmarks.common import DEFAULT_OUT, say, verdict
from benchmarks.project import dataset_folder

TARGETS = {"median_epoch_s": 0.01, "study_s": 10.0, "accuracy_gap_points": 0.5}


def verdicts(results: dict) -> list[dict]:
    """Each target as data: {target, measured, bound, met}."""
    found = []
    if "training" in results:
        epoch = max(results["training"][impl]["median_epoch_s"] for impl in ("scratch", "concise"))
        found.append(verdict("softmax epoch, data resident: seconds", epoch, TARGETS["median_epoch_s"],
                             epoch <= TARGETS["median_epoch_s"]))
    if "study" in results:
        row = results["study"]
        bound = TARGETS["study_s"] * row["runs"] / 100
        found.append(verdict(f"{row['runs']}-run study in one process: seconds", row["wall_s"], bound, row["wall_s"] <= bound))
        if "chunk_wall_s" in row:
            found.append(verdict("the same, tracked in MLflow as a chunk job: seconds", row["chunk_wall_s"], bound,
                                 row["chunk_wall_s"] <= bound))
    rows = results.get("pipeline", [])
    if rows:
        recorded = sum(row["recorded_device"] for row in rows)
        found.append(verdict("every MLflow run recorded the device's name: runs that did", recorded, len(rows),
                             recorded == len(rows)))
        gaps = [row["accuracy_gap_points"] for row in rows if row["accuracy_gap_points"] is not None]
        if gaps:
            found.append(verdict("test accuracy within 0.5 points of the CPU run: largest gap in points", max(gaps),
                                 TARGETS["accuracy_gap_points"], max(gaps) <= TARGETS["accuracy_gap_points"]))
    return found


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu, to try the script without a GPU")
    parser.add_argument("--configs", nargs="*", default=["config.yaml"], help="pipeline runs (step 4)")
    parser.add_argument("--tasks", nargs="*", help="the tasks the pipeline step trains (default: each config's)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of step 2 and of each study run")
    parser.add_argument("--study-rates", type=int, default=10, help="learning rates in the study (at most 10)")
    parser.add_argument("--study-seeds", type=int, default=10, help="seeds in the study")
    parser.add_argument("--stand-in", action="store_true", help="a small generated dataset instead of Fashion-MNIST")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or DEFAULT_OUT))
    return parser.parse_args()


def steps(args: argparse.Namespace, data: Path) -> list[tuple[str, object]]:
    found = [("training", lambda: gpu_steps.training(data, args.device, args.epochs)),
             ("study", lambda: gpu_steps.study(data, args.device, args.study_rates, args.study_seeds, args.epochs))]
    if importlib.util.find_spec("snakemake") and importlib.util.find_spec("mlflow"):
        found.append(("pipeline", lambda: [row for name in args.configs for row in gpu_steps.pipeline(
            name, args.device, None if name == "small.yaml" else data, args.tasks)]))
    else:
        say("Snakemake or MLflow is missing: the pipeline step is skipped (scripts/gpu-wheels.sh carries them)")
    return found


def run_steps(args: argparse.Namespace, results: dict, out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data = gpu_steps.stand_in(Path(scratch)) if args.stand_in else dataset_folder()
        for step, function in steps(args, data):
            say(f"{step}:")
            started = time.perf_counter()
            try:
                results[step] = function()
            except Exception:  # noqa: BLE001 -- report it, and still run and write what else can be measured
                results["failures"].append({"step": step, "error": traceback.format_exc()})
                say(f"  FAILED after {time.perf_counter() - started:.1f} s\n{traceback.format_exc()}")
            out.write_text(json.dumps(results, indent=2) + "\n")


def main() -> int:
    import torch

    args = arguments()
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
    run_steps(args, results, out)
    say("targets:")
    results["verdicts"] = verdicts(results)
    out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"Written: {out}")
    missed = args.device.startswith("cuda") and not all(row["met"] for row in results["verdicts"])
    return 1 if results["failures"] or missed else 0


if __name__ == "__main__":
    sys.exit(main())
