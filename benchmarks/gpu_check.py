"""GPU check: run the small and the default config with device: cuda and show what ran where.

    .venv/bin/python benchmarks/gpu_check.py            # on a machine with a CUDA device
    .venv/bin/python benchmarks/gpu_check.py --device cpu   # the same steps on the CPU (a dry run of the script)

Prints, per run and as soon as it has it, the device name, the median epoch time, the test accuracy
and the device each MLflow run recorded. The default config trains on the Fashion-MNIST copy this
project already acquired (resources/fashion-mnist, or the Debian copy), so it needs no network. A
step that fails is reported and the next one still runs. Writes results/benchmarks/gpu-check.json.
Exits 2 on a machine without a CUDA device (unless --device cpu), 1 if a run did not record the
device it was asked for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import traceback
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, copy_workflow, dataset_folder, snakemake  # noqa: E402


def check(config_name: str, device: str, data_folder: Path | None, report) -> list[dict]:
    from mlflow.tracking import MlflowClient

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = copy_workflow(Path(scratch) / "project")
        config = yaml.safe_load((ROOT / "config" / config_name).read_text())
        config["device"] = device
        if data_folder is not None:  # the data this project already verified: no download
            config["data"]["fashion_mnist"].update({"local_dir": str(data_folder), "mirrors": []})
        (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
        seconds = snakemake(folder, "--until", "train_chunk")
        client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
        for path in sorted((folder / "results" / "runs").rglob("history.json")):
            history = json.loads(path.read_text())
            metrics = json.loads((path.parent / "metrics.json").read_text())
            tags = client.get_run(history["run_id"]).data.tags
            epochs = [record["epoch_seconds"] for record in history["epochs"]]
            row = {
                "config": config_name, "run": history["run_name"], "device_name": history.get("device_name", "?"),
                "first_epoch_s": epochs[0], "median_epoch_s": statistics.median(epochs[1:] or epochs),
                "test_accuracy": metrics.get("test/accuracy"), "test_loss": metrics["test/loss"],
                "mlflow_device": tags.get("device", "(no tag)"),
                "mlflow_device_name": tags.get("device_name", "(no tag)"),
                "pipeline_s": seconds,
            }
            rows.append(row)
            report(row)
    return rows


def print_row(row: dict, wanted: str) -> bool:
    recorded = row["mlflow_device"].startswith(wanted) and row["mlflow_device_name"] == row["device_name"]
    accuracy = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else "-"
    print(f"  {row['config']:<12}{row['run']:<24}{row['device_name'][:26]:<28}{row['first_epoch_s']:>9.4f}"
          f"{row['median_epoch_s']:>9.4f}{accuracy:>10}  {row['mlflow_device']} / {row['mlflow_device_name']}"
          f"{'' if recorded else '  <- NOT the requested device'}", flush=True)
    return recorded


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu, to try the script without a GPU")
    parser.add_argument("--configs", nargs="+", default=["small.yaml", "config.yaml"])
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("No CUDA device here (torch.cuda.is_available() is False): the GPU check was not run.")
        return 2
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    print(f"GPU check on {name}, torch {torch.__version__}", flush=True)
    print(f"  {'config':<12}{'run':<24}{'device':<28}{'1st s':>9}{'s/epoch':>9}{'test acc':>10}  MLflow records",
          flush=True)
    rows, failures = [], []
    recorded = []
    for config_name in args.configs:
        try:
            data_folder = None if config_name == "small.yaml" else dataset_folder()
            rows += check(config_name, args.device, data_folder,
                          lambda row: recorded.append(print_row(row, args.device.split(":")[0])))
        except Exception:  # report it, and still run and write what else can be measured
            failures.append({"config": config_name, "error": traceback.format_exc()})
            print(f"  {config_name}: FAILED\n{traceback.format_exc()}", flush=True)
    out = ROOT / "results" / "benchmarks" / "gpu-check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"device": name, "rows": rows, "failures": failures}, indent=2) + "\n")
    print(f"Written: {out}")
    return 1 if failures or not all(recorded) else 0


if __name__ == "__main__":
    sys.exit(main())
