"""A throwaway copy of the project to run Snakemake in, and what its jobs measured inside themselves."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchmarks.common import ROOT, SCHEMA

JOBS = Path("results") / "benchmarks" / "jobs"


def copy_workflow(destination: Path, revision: str | None = None) -> Path:
    """The project's files as git sees them (tracked, and untracked but not ignored) under
    destination; or, with `revision`, the files committed at that revision (git archive)."""
    if revision is not None:
        destination.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
        return destination
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith(("results/", "resources/", "logs/")):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def environment(folder: Path, **extra: str) -> dict:
    """The jobs import the copy's own package (PYTHONPATH=<copy>/src) and its own MLflow store
    (unless `extra` names another: MLFLOW_TRACKING_URI and its credentials)."""
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder / "src"), os.environ.get("PYTHONPATH")]))
    return {**env, **extra}


def snakemake(folder: Path, *args: str, target: str = "all", env: dict | None = None) -> float:
    """Wall seconds of one Snakemake call in `folder` (`env`: more environment variables)."""
    command = [sys.executable, "-m", "snakemake", target, *args, "--cores", "all", "--quiet", "all"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=folder, env=environment(folder, **(env or {})), capture_output=True,
                            text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed in {folder}:\n{result.stderr[-3000:]}")
    return elapsed


def prepared_project(scratch: str | Path, base_config: str, seeds: list[int] | None = None,
                     revision: str | None = None) -> Path:
    """A copy of the workflow (as committed at `revision`, if given) on its config/<base_config>
    (seeds replaced if given), data acquired, untimed."""
    folder = copy_workflow(Path(scratch) / "project", revision)
    config = yaml.safe_load((folder / "config" / base_config).read_text())
    if seeds is not None:
        config["seeds"] = seeds
    full_data = ROOT / "resources" / "fashion-mnist"
    if not config["data"]["fashion_mnist"].get("generate") and (full_data / "manifest.json").exists():
        config["data"]["fashion_mnist"]["local_dir"] = str(full_data)  # verified here already: no download
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    snakemake(folder, target=f"{config['data']['fashion_mnist']['dir']}/manifest.json")
    return folder


def job_seconds(folder: Path) -> dict:
    """{rule: {jobs, median_s, total_s}} from the rules' benchmark: files."""
    per_rule: dict[str, list[float]] = {}
    for path in sorted((folder / JOBS).rglob("*.tsv")):
        seconds = float(path.read_text().splitlines()[1].split("\t")[0])
        per_rule.setdefault(path.relative_to(folder / JOBS).parts[0], []).append(seconds)
    return {rule: {"jobs": len(v), "median_s": statistics.median(v), "total_s": sum(v)}
            for rule, v in sorted(per_rule.items())}


def in_job_seconds(folder: Path) -> dict:
    """What the jobs measured inside themselves: each run's training and evaluation (its history),
    each seed's figures, each chunk's time beyond its runs' training and evaluation."""
    chunks = [json.loads(path.read_text()) for path in (folder / "results" / "chunks").glob("*.json")]
    trained = sum(row["trained"] for chunk in chunks for row in chunk["runs"])
    overhead = sum(c["seconds"]["in_job"] - c["seconds"]["training"] - c["seconds"]["evaluation"] for c in chunks)
    arithmetic = sum(c["seconds"]["training"] + c["seconds"]["evaluation"] for c in chunks)
    per_seed: dict[str, float] = {}
    for path in (folder / "results" / "runs").glob("*/seed-*/*/history.json"):  # <learner>/seed-<n>/<key>/
        history = json.loads(path.read_text())
        seed = path.parent.parent.name.removeprefix("seed-")
        per_seed[seed] = per_seed.get(seed, 0.0) + history["seconds"]["train"] + history["seconds"]["evaluate"]
    for path in (folder / "results" / "figures").glob("seed-*/figures.json"):
        seed = path.parent.name.removeprefix("seed-")
        per_seed[seed] = per_seed.get(seed, 0.0) + json.loads(path.read_text())["seconds"]
    return {"runs_trained": trained, "chunks": len(chunks), "arithmetic_s": arithmetic,
            "arithmetic_per_seed_s": statistics.mean(per_seed.values()) if per_seed else None,
            "chunk_overhead_per_run_s": overhead / trained if trained else None}


def dataset_folder() -> Path:
    """The verified full Fashion-MNIST: the project's own copy, or acquired now from the default sources."""
    from nndl.config.validate import load
    from nndl.data import acquire
    from nndl.files import write_json

    folder = ROOT / "resources" / "fashion-mnist"
    if not (folder / "manifest.json").exists():
        source = load(ROOT / "config" / "config.yaml", SCHEMA)["data"]["fashion_mnist"]
        manifest = acquire.acquire(folder, source["local_dir"], source["system_dir"], source["mirrors"],
                                   retries=source["retries"], timeout_s=source["timeout_s"])
        write_json(manifest, folder / "manifest.json")
    return folder
