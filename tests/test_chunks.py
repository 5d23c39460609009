"""Chunks in one process, with a real MLflow store: same numbers as before, complete runs are not
trained again, changed specs and code are, and a marker always matches a FINISHED run."""

import copy
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
import yaml
from mlflow.tracking import MlflowClient

from conftest import ROOT, SCHEMA, needs_system_fashion_mnist, small_config
from nndl import chunks, codedeps, config, fashion_mnist, layout, specs, synthetic, tracking
from nndl.errors import GateError

RECORDED = ROOT / "tests" / "data" / "default-seed0-metrics.json"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder as the working directory, with its own MLflow store."""
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    tracking.ensure_experiment(uri, "chunks")
    return tmp_path


def resolved_runs(raw_config: dict, task: str) -> list[dict]:
    runs = specs.resolve_runs(config.validate(raw_config, SCHEMA))
    return [spec for spec in runs if spec["task"] == task]


def make_data(raw_config: dict) -> None:
    """What the data rules make: every synthetic set the runs train on, and Fashion-MNIST (the
    generated stand-in, or the Debian copy) with its manifest."""
    cfg = config.validate(raw_config, SCHEMA)
    for digest, block in specs.synthetic_datasets(specs.resolve_runs(cfg)).items():
        synthetic.save_dataset(synthetic.dataset_from(block), layout.SYNTHETIC_DATA.format(digest=digest),
                               layout.SYNTHETIC_DESCRIPTION.format(digest=digest), block)
    fashion = cfg["data"]["fashion_mnist"]
    if fashion["generate"]:
        generate = fashion["generate"]
        manifest = fashion_mnist.generate_stand_in(fashion["dir"], generate["train"], generate["test"],
                                                   generate["seed"])
    else:
        manifest = fashion_mnist.acquire(fashion["dir"], None, fashion["system_dir"], [])
    fashion_mnist.write_manifest(manifest, f"{fashion['dir']}/manifest.json")


def run(runs, name="chunk.json"):
    return chunks.run_chunk(runs, name, experiment="chunks", project_root=ROOT, threads=1, source="tests")


def finished_runs(name):
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("chunks")
    return client.search_runs([experiment.experiment_id], filter_string=f"attributes.run_name = '{name}' "
                                                                         "and attributes.status = 'FINISHED'")


@pytest.mark.e2e
@needs_system_fashion_mnist
def test_default_config_gives_the_recorded_numbers(project):
    """The four default runs (seed 0, real Fashion-MNIST) give the metrics recorded before chunks existed."""
    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    make_data(raw)  # the verified Debian copy
    recorded = json.loads(RECORDED.read_text())
    for task in layout.TASKS:
        run(resolved_runs(raw, task), f"{task}.json")
    for name, expected in recorded.items():
        folder = project / "results" / "runs" / name / "seed-0"
        history = json.loads((folder / layout.HISTORY).read_text())
        metrics = json.loads((folder / layout.METRICS).read_text())
        actual = {**history["epochs"][-1], **metrics["summary"], **history["untrained"]}
        for key, value in expected.items():
            assert actual[key] == pytest.approx(value, abs=1e-6), (name, key)


def test_complete_runs_are_skipped_and_changed_specs_retrained(project):
    raw = small_config(seeds=[0, 1])
    make_data(raw)
    first = run(resolved_runs(raw, "linreg"))
    assert [row["trained"] for row in first["runs"]] == [True] * 4
    again = run(resolved_runs(raw, "linreg"))
    assert [row["trained"] for row in again["runs"]] == [False] * 4
    assert [row["run_id"] for row in again["runs"]] == [row["run_id"] for row in first["runs"]]

    changed = copy.deepcopy(raw)
    changed["linreg"]["epochs"] = 4
    runs = resolved_runs(raw, "linreg")[:2] + resolved_runs(changed, "linreg")[2:]  # seed 1 changed
    third = run(runs)
    assert [row["trained"] for row in third["runs"]] == [False, False, True, True]
    for row in third["runs"]:
        assert len(finished_runs(row["name"])) == (2 if row["trained"] else 1)
        marker = json.loads((project / row["dir"] / layout.COMPLETE).read_text())
        assert marker["run_id"] == row["run_id"]


def test_changed_gates_are_checked_not_retrained(project):
    raw = small_config()
    make_data(raw)
    first = run(resolved_runs(raw, "linreg"))
    stricter = small_config()
    stricter["gates"]["linreg"]["max_param_error"] = 1e-9
    with pytest.raises(GateError, match="linreg-scratch-seed0 missed its quality gate"):
        run(resolved_runs(stricter, "linreg"))
    looser = small_config()
    looser["gates"]["linreg"]["max_param_error"] = 0.5
    third = run(resolved_runs(looser, "linreg"))
    assert [row["trained"] for row in third["runs"]] == [False, False]
    assert [row["run_id"] for row in third["runs"]] == [row["run_id"] for row in first["runs"]]


def test_a_marker_whose_run_was_not_ended_finished_is_repaired(project):
    """A SIGKILL between the marker and the end of the run: outputs whole, run KILLED by the sweep."""
    raw = small_config()
    make_data(raw)
    first = run(resolved_runs(raw, "linreg"))
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    victim = first["runs"][1]["run_id"]
    client.set_terminated(victim, status="KILLED")
    second = run(resolved_runs(raw, "linreg"))
    assert [row["trained"] for row in second["runs"]] == [False, False]
    assert client.get_run(victim).info.status == "FINISHED"


def test_edited_training_code_retrains(project, monkeypatch):
    raw = small_config()
    make_data(raw)
    run(resolved_runs(raw, "linreg"))
    monkeypatch.setattr(chunks, "code_hash", lambda: "edited-code")
    assert [row["trained"] for row in run(resolved_runs(raw, "linreg"))["runs"]] == [True, True]


def test_saved_weights_are_cpu_tensors_with_the_trained_values(project):
    raw = small_config()
    make_data(raw)
    manifest = run(resolved_runs(raw, "softmax"))
    for row in manifest["runs"]:
        state = torch.load(project / row["dir"] / layout.MODEL, weights_only=True)  # no map_location
        assert state and all(tensor.device.type == "cpu" for tensor in state.values())
        history = json.loads((project / row["dir"] / layout.HISTORY).read_text())
        assert history["run_id"] == row["run_id"] and history["settings"]["name"] == row["name"]


def test_training_code_list_is_what_training_imports():
    """The rules' code inputs (read from the source) cover every nndl module a chunk job really imports."""
    package = ROOT / "src" / "nndl"
    listed = {path.stem for path in codedeps.closure(package, "chunks")}
    script = "import sys, nndl.chunks; print(' '.join(m.split('.')[1] for m in sys.modules if m.startswith('nndl.')))"
    imported = set(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert imported and imported <= listed
    assert {"runs", "scratch", "training", "models", "tracking", "evaluation", "datasets"} <= listed


def test_import_reader_agrees_with_the_python_parser():
    """codedeps reads imports with a regular expression (fast at every Snakemake start); on every
    module of the package and every workflow script it finds what Python's own parser (ast) finds."""
    import ast

    for path in [*sorted((ROOT / "src" / "nndl").glob("*.py")), *sorted((ROOT / "workflow" / "scripts").glob("*.py"))]:
        parsed = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                parsed |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("nndl.")}
            elif isinstance(node, ast.ImportFrom) and node.module == "nndl":
                parsed |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nndl."):
                parsed.add(node.module.split(".")[1])
        assert set(codedeps._imported(path)) == parsed, path.name


def test_editing_a_module_training_imports_changes_the_code_hash(tmp_path):
    package = tmp_path / "nndl"
    shutil.copytree(ROOT / "src" / "nndl", package)
    before = codedeps.fingerprint(package, "chunks")
    (package / "scratch.py").write_text((package / "scratch.py").read_text() + "\n# edited\n")
    edited = codedeps.fingerprint(package, "chunks")
    assert edited != before
    (package / "plots.py").write_text((package / "plots.py").read_text() + "\n# edited\n")  # figures only
    assert codedeps.fingerprint(package, "chunks") == edited
