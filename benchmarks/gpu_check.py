"""GPU check: run the small and the default config with device: cuda and show what ran where.

    .venv/bin/python benchmarks/gpu_check.py

Prints, per run, the device name, the median epoch time and the test accuracy, and checks that the
MLflow runs recorded the GPU. Writes results/benchmarks/gpu-check.json. Exits with status 2 and says
so on a machine without a CUDA device.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, copy_workflow, snakemake  # noqa: E402

RUNS = [f"{task}-{impl}" for task in ("linreg", "softmax") for impl in ("scratch", "concise")]


def check(config_name: str) -> list[dict]:
    from mlflow.tracking import MlflowClient

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = copy_workflow(Path(scratch) / "project")
        config = yaml.safe_load((ROOT / "config" / config_name).read_text())
        config["device"] = "cuda"
        (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
        seconds = snakemake(folder, *[f"results/runs/{run}/seed-0/metrics.json" for run in RUNS])
        client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
        for run in RUNS:
            history = json.loads((folder / f"results/runs/{run}/seed-0/history.json").read_text())
            metrics = json.loads((folder / f"results/runs/{run}/seed-0/metrics.json").read_text())
            tags = client.get_run(history["run_id"]).data.tags
            epochs = [record["epoch_seconds"] for record in history["epochs"]]
            rows.append({
                "config": config_name, "run": run, "device_name": history["device_name"],
                "median_epoch_s": statistics.median(epochs[1:] or epochs),
                "test_accuracy": metrics.get("test/accuracy"), "test_loss": metrics["test/loss"],
                "mlflow_device": tags.get("device"), "mlflow_device_name": tags.get("device_name"),
                "pipeline_s": seconds,
            })
    return rows


def main() -> int:
    if not torch.cuda.is_available():
        print("No CUDA device here (torch.cuda.is_available() is False): the GPU check was not run.")
        return 2
    rows = check("small.yaml") + check("config.yaml")
    print(f"GPU check on {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    print(f"  {'config':<12}{'run':<18}{'device':<28}{'s/epoch':>9}{'test acc':>10}  MLflow records")
    failures = 0
    for row in rows:
        recorded = row["mlflow_device"].startswith("cuda") and row["mlflow_device_name"] == row["device_name"]
        failures += not recorded
        accuracy = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else "-"
        print(f"  {row['config']:<12}{row['run']:<18}{row['device_name']:<28}{row['median_epoch_s']:>9.4f}"
              f"{accuracy:>10}  {row['mlflow_device']} / {row['mlflow_device_name']}"
              f"{'' if recorded else '  <- NOT the GPU'}")
    out = ROOT / "results" / "benchmarks" / "gpu-check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"Written: {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
