"""What every benchmark shares: the options, printing, verdicts as data, the results file."""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT_OUT = ROOT / "results" / "benchmarks"


def say(text: str) -> None:
    """Print a figure as soon as it is measured."""
    print(text, flush=True)


def verdict(target: str, measured: float, bound: float, met: bool, **details) -> dict:
    """A target as data: what it asks, what was measured, the bound it was held to, met or not."""
    row = {"target": target, "measured": measured, "bound": bound, "met": bool(met), **details}
    say(f"  verdict: {target}: {measured:.3g} against {bound:.3g}: {'met' if met else 'MISSED'}")
    return row


def parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark understands (each reads those it needs)."""
    found = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    found.add_argument("--quick", action="store_true", help="fewer epochs, seeds and repeats")
    found.add_argument("--device", default="cpu", help="device of the in-memory training variants (cpu, cuda)")
    found.add_argument("--threads", type=int, default=1, help="torch threads (the pipeline's default is 1)")
    found.add_argument("--epochs", type=int, default=10, help="epochs of the in-memory training variants")
    found.add_argument("--repeats", type=int, help="pairs timed, alternating (cold pipeline 3, no-op 5)")
    found.add_argument("--seeds", type=int, nargs="+", help="seed sweep sizes (default 1 4 16; --quick 1 4)")
    found.add_argument("--scaling-config", default="small.yaml", help="config of the seed sweep")
    found.add_argument("--against", metavar="REVISION", help="a git revision to time side by side (exercises)")
    found.add_argument("--noop-config", default="small.yaml", help="config of the no-op rerun (config.yaml: the default)")
    found.add_argument("--runs", type=int, help="runs in the project (store check: default 5000; record cost: 100)")
    found.add_argument("--sizes", type=int, nargs="+", help="study sizes, in runs (study scale: default 100 1000 2000)")
    found.add_argument("--keep", type=Path, help="leave the benchmark's project copies under this folder")
    found.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON results go")
    return found


def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cpus": os.cpu_count(), "gpu": gpu, "torch": torch.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def header(options: argparse.Namespace, command: str) -> dict:
    return {"timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "device": options.device, "threads": options.threads, "quick": options.quick, "command": command}


def write_results(results: dict, out: Path, name: str) -> Path:
    """out/<name>-<time>.json and out/<name>-latest.json; returns the first."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    text = json.dumps(results, indent=2) + "\n"
    (out / f"{name}-latest.json").write_text(text)
    written = out / f"{name}-{stamp}.json"
    written.write_text(text)
    return written


def main(name: str, measure, description: str) -> None:
    """A benchmark's command line: measure, store its figures and verdicts, print where."""
    import sys

    options = parser(description).parse_args()
    results = {**header(options, " ".join(sys.argv)), name: measure(options)}
    say(f"Written: {write_results(results, options.out, name)}")
