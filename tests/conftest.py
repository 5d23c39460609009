"""Shared fixtures: a copy of the workflow in a temporary folder, and a way to run Snakemake on it."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from nndl.numerics import PORTABLE, prepare

# Before anything imports torch: the runs this process trains (and the jobs it starts, which inherit
# the environment) compute with the portable settings, as config/small.yaml's runs ask, so their
# numbers are the same on any x86-64 CPU (the recorded numbers among them).
prepare(PORTABLE)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
WORKFLOW_PARTS = ["Snakefile", "workflow", "config", "profiles", "reports", "src", "environment.yml"]

needs_system_fashion_mnist = pytest.mark.skipif(
    not (SYSTEM_FASHION_MNIST / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)


# The slowest end-to-end files, slowest first: each file's seconds on one of two workers of a fresh
# clone's suite (2026-12-07 at e0db073, the 60 slowest of `pytest --durations=60` summed per file):
# test_record 130, test_chunks 117 (its recorded numbers 111), test_pipeline 106, test_signals 90,
# test_views 41, test_full_disk 36, test_registry 27, test_reliability, test_newcomer and
# test_tracking 22 each, test_gpu_check 20; the rest after them in name order. Handed out longest
# first, the two workers end within a file of each other (a long file handed out last is the
# suite's tail).
SLOWEST_FILES = ["test_record.py", "test_chunks.py", "test_pipeline.py", "test_signals.py", "test_views.py",
                 "test_full_disk.py", "test_registry.py", "test_reliability.py", "test_newcomer.py",
                 "test_tracking.py", "test_gpu_check.py"]


def pytest_collection_modifyitems(config, items):
    """The slow files first: pytest-xdist hands out whole files in this order (--no-loadscope-reorder;
    its default order is by number of tests, which can start a slow one-test file last and leave
    one worker idle for its minutes). The daemon tests (one file, test_cluster.py) first, as they
    mostly wait and leave the cores to the other worker's pipelines; then the other end-to-end
    files, the slowest first (a long file handed out last is the suite's tail); the unit tier last."""
    def order(item):
        tier = 0 if item.get_closest_marker("cluster") else 1 if item.get_closest_marker("e2e") else 2
        name = item.path.name
        return tier, SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=order)  # stable: otherwise the files' own order


def copy_workflow(destination: Path) -> Path:
    """Copy the workflow (not results) into `destination`; its jobs import the copy's package
    (Workflow.environment sets PYTHONPATH)."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, destination / part)
    return destination


# What the tests of the record, the stores, the cluster and a full disk train. What they test
# (outages, copies, teammates, permissions) does not depend on the task: the record's and the team
# server's train softmax alone (one chunk job a Snakemake run); those that run jobs side by side
# (Slurm's, a full disk's) one task on generated linear data and one on images. The pipeline's own
# tests (tests/test_pipeline.py) train every task.
ONE_TASK = ["softmax"]
TWO_TASKS = ["linreg", "softmax"]


def two_task_config(**overrides) -> dict:
    """The small config choosing TWO_TASKS (`tasks:`), with `overrides` as small_config takes them."""
    return {**small_config(**overrides), "tasks": TWO_TASKS}


def run_names(tasks, seed: int = 0) -> set[str]:
    """The default runs' names of `tasks` for one seed."""
    from nndl.runs import names
    from nndl.tasks.types import IMPLS

    return {names.run_name(task, impl, seed) for task in tasks for impl in IMPLS}


def small_config(**overrides) -> dict:
    config = yaml.safe_load((ROOT / "config" / "small.yaml").read_text())
    for dotted, value in overrides.items():
        node = config
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return config


def real_data_config(local_dir, system_dir=None, mirrors=()) -> dict:
    """The small config on the real Fashion-MNIST in resources/fashion-mnist, from these sources."""
    config = small_config()
    config["data"]["fashion_mnist"].update({"dir": "resources/fashion-mnist", "generate": None,
                                            "local_dir": str(local_dir), "system_dir": system_dir,
                                            "mirrors": list(mirrors), "retries": 1, "timeout_s": 2})
    return config


def output_of(result) -> str:
    """What a finished Snakemake process printed, both streams."""
    return result.stdout + result.stderr


_EMPTY_STORE: list[bytes] = []


def empty_store() -> bytes:
    """The bytes of a new, empty sqlite MLflow store (its schema made), built once per process:
    making the schema costs about 10 s on 2 cores, for every test that runs the pipeline. The
    pipeline's own first store, made under a lock by racing jobs, is tested in test_tracking.py."""
    if not _EMPTY_STORE:
        import tempfile

        from mlflow.tracking import MlflowClient

        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "mlflow.db"
            MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
            _EMPTY_STORE.append(database.read_bytes())
    return _EMPTY_STORE[0]


class Workflow:
    """A copy of the workflow in a temporary folder, with its own MLflow store (new and empty)."""

    def __init__(self, folder: Path):
        self.folder = copy_workflow(folder)
        self.tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
        (folder / "mlflow.db").write_bytes(empty_store())

    @classmethod
    def copy_of(cls, other: "Workflow", folder: Path) -> "Workflow":
        """A copy of another project as it is, results and store included: what `cp -a` makes (a
        project of its own once the workflow is parsed, whose store keeps the other's artifact folder)."""
        workflow = cls.__new__(cls)
        workflow.folder = Path(shutil.copytree(other.folder, folder, symlinks=True))
        workflow.tracking_uri = f"sqlite:///{workflow.folder / 'mlflow.db'}"
        return workflow

    @classmethod
    def moved_from(cls, other: "Workflow", folder: Path) -> "Workflow":
        """A copy of another project that is as if the project had been made in `folder` (its
        identity and its store name `folder`), to go on from there without changing the other."""
        from nndl.runs import names

        workflow = cls.copy_of(other, folder)
        old, new = str(other.folder.resolve()), str(workflow.folder.resolve())
        made_in = workflow.path(names.PROJECT_FILE).parent.stat()
        for kept in (names.PROJECT_FILE, names.PROJECT_SPARE):
            path = workflow.path(kept)
            if path.exists():
                path.write_text(json.dumps({**json.loads(path.read_text()), "folder": new,
                                            "anchor": [made_in.st_dev, made_in.st_ino]}))
        with sqlite3.connect(workflow.folder / "mlflow.db") as store:  # every path MLflow keeps, as path or URI
            tables = [name for (name,) in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for (column,) in store.execute(f"SELECT name FROM pragma_table_info('{table}') "
                                               "WHERE type LIKE '%CHAR%' OR type LIKE '%TEXT%'").fetchall():
                    for before, after in ((Path(old).as_uri(), Path(new).as_uri()), (old, new)):
                        store.execute(f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                                      f'WHERE instr("{column}", ?) > 0', (before, after, before))
        return workflow

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
        # The copy's jobs run the copy's package (the editable install points at this checkout).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.folder / "src"), env.get("PYTHONPATH")]))
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

    def run_folder(self, name: str) -> Path:
        """The folder of run `name` ('softmax-scratch-seed0') under the config last written, as
        the pipeline resolves it."""
        from nndl.config.validate import validate
        from nndl.runs.plan import resolve_runs

        config = yaml.safe_load((self.folder / "config" / "config.yaml").read_text())
        (spec,) = [spec for spec in resolve_runs(validate(config, SCHEMA)) if spec.name == name]
        return self.folder / spec.dir

    def records(self) -> dict[str, str]:
        """{run name: its record's text} of the complete runs: a run trained again has another
        (its history's timings differ)."""
        return {json.loads(path.read_text())["name"]: path.read_text()
                for path in self.path("results/runs").rglob("complete.json")}


@pytest.fixture
def workflow(tmp_path) -> Workflow:
    return Workflow(tmp_path / "project")


# Shared by the tests that train chunks in this process (test_chunks, test_studies).


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder as the working directory, with its own MLflow store (a copy of
    `empty_store`)."""
    from nndl.tracking.store import ensure_experiment

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlflow.db").write_bytes(empty_store())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    ensure_experiment(uri, "chunks")
    return tmp_path


def make_data(raw_config: dict) -> None:
    """What the data rules make: every synthetic set the runs train on, and Fashion-MNIST (the
    generated stand-in, or the Debian copy) with its manifest."""
    from nndl.config.validate import validate
    from nndl.data import acquire, sources, stand_in, synthetic
    from nndl.files import write_json
    from nndl.runs import names, specs
    from nndl.runs.plan import resolve_runs

    cfg = validate(raw_config, SCHEMA)
    for digest, block in specs.synthetic_datasets(resolve_runs(cfg)).items():
        synthetic.save_dataset(synthetic.dataset_from(block), sources.SYNTHETIC_DATA.format(digest=digest),
                               sources.SYNTHETIC_DESCRIPTION.format(digest=digest), block)
    fashion = cfg["data"]["fashion_mnist"]
    if fashion["generate"]:
        generate = fashion["generate"]
        manifest = stand_in.generate_stand_in(fashion["dir"], generate["train"], generate["test"], generate["seed"])
    else:
        manifest = acquire.acquire(fashion["dir"], None, fashion["system_dir"], [])
    write_json(manifest, sources.manifest_path(fashion['dir']))


PROJECT = "p-tests"  # the project identity of the chunks trained in this process


def run_chunk(runs: list, name: str = "chunk.json", experiment: str = "chunks", project: str = PROJECT,
              **options) -> dict:
    """One chunk job in this process, tracked in the `project` fixture's store."""
    import io

    from nndl.runs.chunk_job import run_chunk as run

    return run(runs, name, experiment=experiment, project=project, project_root=ROOT, source="tests",
               console=io.StringIO(), **options)


def run_id(spec, experiment: str = "chunks", project: str = PROJECT) -> str:
    """The MLflow run that records a run's files (found by its key, as the pipeline finds it)."""
    from nndl.runs import names, record
    from nndl.tracking.ledger import run_ids

    key = record.read(spec.dir).key
    return run_ids(ROOT / names.LEDGER_DIR, os.environ["MLFLOW_TRACKING_URI"], experiment, project, [key])[key]


@pytest.fixture
def server_state():
    """A state folder for scripts/mlflow-server.sh that the `postgres` user can reach (pytest's own
    are private to root)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="nndl-mlflow-server-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def spec_for(task: str, impl: str = "scratch", **settings):
    """A default run's spec of the default config, with `settings` applied (a study point's way)."""
    from nndl.config.validate import validate
    from nndl.runs.specs import resolve_run

    return resolve_run(validate({}, SCHEMA), task, impl, 0, settings)


def trained_runs(task, folder: Path, **settings) -> dict[str, dict]:
    """{learner: {'history', 'metrics', 'record'}} of a generated-data task's two default runs (seed 0)
    with `settings` applied, trained for real in this process; its data made in `folder`."""
    from types import SimpleNamespace

    import torch

    from nndl.data import synthetic
    from nndl.data.tensors import load_task_data
    from nndl.learn.run import train_and_evaluate
    from nndl.runs import names
    from nndl.tasks.types import IMPLS

    runs = {}
    for impl in IMPLS:
        spec = spec_for(task.name, impl, **settings)
        data = type(spec.data).from_json({**spec.data.to_json(), "path": str(folder / spec.data.path),
                                          "description": str(folder / spec.data.description)})
        if not Path(data.path).exists():
            block = data.settings.to_json()
            synthetic.save_dataset(synthetic.dataset_from(block), data.path, data.description, block)
        spec = replace(spec, data=data)
        result = train_and_evaluate(spec, load_task_data(data, torch.device("cpu")), torch.device("cpu"))
        runs[names.learner(task.name, impl)] = {"history": result.history, "metrics": result.metrics,
                                                "record": SimpleNamespace(spec=spec)}
    return runs
