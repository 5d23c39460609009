"""Shared fixtures: a copy of the workflow in a temporary folder, and a way to run Snakemake on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
WORKFLOW_PARTS = ["Snakefile", "workflow", "config", "profiles", "reports", "src", "environment.yml"]

needs_system_fashion_mnist = pytest.mark.skipif(
    not (SYSTEM_FASHION_MNIST / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)


def copy_workflow(destination: Path) -> Path:
    """Copy the workflow (not results) into `destination`; the package is imported from the venv."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, destination / part)
    return destination


def small_config(**overrides) -> dict:
    config = yaml.safe_load((ROOT / "config" / "small.yaml").read_text())
    for dotted, value in overrides.items():
        node = config
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return config


class Workflow:
    """A copy of the workflow in a temporary folder, with its own MLflow store."""

    def __init__(self, folder: Path):
        self.folder = copy_workflow(folder)
        self.tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"

    def write_config(self, config: dict, name: str = "test.yaml") -> Path:
        path = self.folder / "config" / name
        path.write_text(yaml.safe_dump(config, allow_unicode=True))
        # The Snakefile's own configfile is replaced, so a test config is not merged into the default one.
        shutil.copy(path, self.folder / "config" / "config.yaml")
        return path

    def environment(self, **extra: str) -> dict:
        """This process's environment without a tracking URI (each test has its own store)."""
        env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        env["PYTHONUNBUFFERED"] = "1"
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "snakemake", "--cores", "2", *args]

    def run(self, *args: str, check: bool = True, timeout: float = 600,
            env: dict | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), cwd=self.folder, env=env or self.environment(),
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def path(self, relative: str) -> Path:
        return self.folder / relative


@pytest.fixture
def workflow(tmp_path) -> Workflow:
    return Workflow(tmp_path / "project")
