"""A record a team can trust, for real (Snakemake, MLflow, sqlite): the store is asked where the
workflow is parsed, a teammate's runs are never touched, a deleted run or experiment is noticed,
and a number that changed after its run wrote it is never shown. Each test works on a copy of one
small finished project (seed 0, up to the runs read back from MLflow)."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from conftest import Workflow, small_config
from mlflow_store import forget_stores, runs_by_name, statuses_by_name
from nndl.errors import DamagedFileError
from nndl.runs import names, outputs
from nndl.tracking.tags import PROJECT_TAG
from nndl.tasks.registry import TASKS
from nndl.tasks.types import IMPLS

pytestmark = pytest.mark.e2e
EXPERIMENT = "nndl-small"
RUN_NAMES = {f"{task}-{impl}-seed0" for task in TASKS for impl in IMPLS}


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> Workflow:
    workflow = Workflow(tmp_path_factory.mktemp("recorded") / "project")
    workflow.write_config(small_config())
    workflow.run(names.TRACKED_RUNS)
    return workflow


@pytest.fixture
def copy(recorded, tmp_path) -> Workflow:
    forget_stores()
    return Workflow.copy_of(recorded, tmp_path / "copy")


def trained_again(workflow, before: dict[str, str]) -> list[str]:
    """The runs whose record changed since `before` (Workflow.records): trained again."""
    after = workflow.records()
    return sorted(name for name in after if before.get(name) != after[name])


def project_of(workflow) -> str:
    return json.loads(workflow.path(names.PROJECT_FILE).read_text())["id"]


def live_ids(uri: str) -> dict[str, list[str]]:
    """{project: [run id, ...]} of the experiment's live runs."""
    client = MlflowClient(tracking_uri=uri)
    found = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])
    by_project: dict[str, list[str]] = {}
    for run in found:
        by_project.setdefault(run.data.tags[PROJECT_TAG], []).append(run.info.run_id)
    return by_project


def nothing_to_do(workflow, env=None) -> bool:
    """Whether a dry run of the runs read back from MLflow plans nothing."""
    result = workflow.run("--dry-run", names.TRACKED_RUNS, env=env)
    assert "Nothing to be done" in result.stdout, result.stdout + result.stderr
    return True


def test_two_clones_in_one_store_each_keep_their_runs(copy, tmp_path):
    """Teammate B (a clone of its own: another project identity) trains the same specs into A's
    store: A's runs stay live, each clone's runs.json names its own live runs, reruns do nothing."""
    teammate = Workflow.copy_of(copy, tmp_path / "teammate")
    for made in (".nndl", "results", "logs", ".snakemake"):
        shutil.rmtree(teammate.path(made), ignore_errors=True)
    shared = teammate.environment(MLFLOW_TRACKING_URI=copy.tracking_uri)
    teammate.run(names.TRACKED_RUNS, env=shared)
    assert sorted(teammate.records()) == sorted(RUN_NAMES)
    ours, theirs = project_of(copy), project_of(teammate)
    assert ours != theirs
    live = live_ids(copy.tracking_uri)
    assert sorted(live) == sorted([ours, theirs]) and all(len(ids) == len(RUN_NAMES) for ids in live.values())
    assert statuses_by_name(copy.tracking_uri, EXPERIMENT) == {name: ["FINISHED", "FINISHED"] for name in RUN_NAMES}
    for workflow, project in ((copy, ours), (teammate, theirs)):
        named = json.loads(workflow.path(names.TRACKED_RUNS).read_text())["pipeline_runs"]
        assert sorted(named.values()) == sorted(live[project]), workflow.folder
    assert nothing_to_do(copy) and nothing_to_do(teammate, env=shared)


def test_a_run_deleted_in_the_ui_is_recorded_again_without_training(copy):
    uri = copy.tracking_uri
    deleted = runs_by_name(uri, EXPERIMENT)["softmax-scratch-seed0"].info.run_id
    MlflowClient(tracking_uri=uri).delete_run(deleted)
    records = copy.records()
    result = copy.run(names.TRACKED_RUNS)
    assert "holds no live record of it made by this project" in result.stderr
    assert "softmax-scratch-seed0: complete, recorded again from its files" in result.stdout
    assert trained_again(copy, records) == []
    runs = runs_by_name(uri, EXPERIMENT)
    assert set(runs) == RUN_NAMES and all(run.info.status == "FINISHED" for run in runs.values())
    named = json.loads(copy.path(names.TRACKED_RUNS).read_text())["pipeline_runs"]
    assert named == {name: run.info.run_id for name, run in runs.items()} and deleted not in named.values()
    assert nothing_to_do(copy)


def test_a_deleted_experiment_stops_at_once_with_the_command_that_restores_it(copy):
    client = MlflowClient(tracking_uri=copy.tracking_uri)
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    client.delete_experiment(experiment_id)
    started = time.monotonic()
    result = copy.run("--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and time.monotonic() - started < 60
    command = f"mlflow experiments restore --experiment-id {experiment_id}"
    assert f"the MLflow experiment {EXPERIMENT!r} (id {experiment_id})" in output and command in output
    assert "rule train_chunk" not in output
    subprocess.run([sys.executable, "-m", "mlflow", *command.split()[1:]], check=True, capture_output=True,
                   env=copy.environment(MLFLOW_TRACKING_URI=copy.tracking_uri))
    assert nothing_to_do(copy)


def test_a_changed_number_is_never_shown_and_its_run_is_trained_again(copy):
    folder = copy.run_folder("softmax-scratch-seed0")
    metrics = folder / names.METRICS
    before = metrics.read_text()
    loss = json.loads(before)["summary"]["final/test_loss"]
    text = json.dumps(loss)
    changed_digit = text[:3] + ("1" if text[3] != "1" else "2") + text[4:]  # 0.0719 -> 0.0119: size kept
    metrics.write_text(before.replace(text, changed_digit, 1))
    assert metrics.stat().st_size == len(before.encode())

    # A reader refuses it, naming the file (the report, the figures, the studies read through it).
    with pytest.raises(DamagedFileError, match=f"{metrics} is not the file its run wrote"):
        outputs.read_metrics(folder)
    dry = copy.run("--dry-run")
    assert f"{copy.run_folder('softmax-scratch-seed0').relative_to(copy.folder)}: a file is missing or not as " \
           "its record (complete.json) says (metrics.json has another SHA-256)" in dry.stderr
    assert "rule train_chunk" in dry.stdout

    # Bit rot (mtime kept): the workflow's check does not hash it again, but the first reader does,
    # and from then on the workflow plans it too.
    metrics.write_text(before)
    records = copy.records()
    copy.run(names.TRACKED_RUNS)  # the check hashes the restored file: right again
    assert nothing_to_do(copy) and trained_again(copy, records) == []
    stamp = metrics.stat().st_mtime_ns
    metrics.write_text(before.replace(text, changed_digit, 1))
    os.utime(metrics, ns=(stamp, stamp))
    assert nothing_to_do(copy)  # not hashed again: same size and mtime as when it was right
    with pytest.raises(DamagedFileError):
        outputs.read_metrics(folder)
    result = copy.run(names.TRACKED_RUNS)
    assert trained_again(copy, records) == ["softmax-scratch-seed0"], result.stderr
    assert json.loads(metrics.read_text())["summary"]["final/test_loss"] == loss
    assert statuses_by_name(copy.tracking_uri, EXPERIMENT)["softmax-scratch-seed0"] == ["FINISHED"]


def test_a_store_deleted_after_switching_configs_is_recorded_again_without_training(copy):
    """small -> another config -> small again, then mlflow.db deleted: the plain rerun records
    every complete run of today's config in the new store from its files, training none."""
    other = small_config()
    other["linreg"]["epochs"] += 1
    copy.write_config(other)
    copy.run(names.TRACKED_RUNS)
    copy.write_config(small_config())
    records = copy.records()
    copy.run(names.TRACKED_RUNS)  # the chunk jobs run (their params changed back) and train nothing
    assert trained_again(copy, records) == []
    copy.path("mlflow.db").unlink()
    forget_stores()
    result = copy.run(names.TRACKED_RUNS)
    assert "holds no live record of it made by this project" in result.stderr
    assert trained_again(copy, records) == []
    assert statuses_by_name(copy.tracking_uri, EXPERIMENT) == {name: ["FINISHED"] for name in RUN_NAMES}
    named = json.loads(copy.path(names.TRACKED_RUNS).read_text())["pipeline_runs"]
    assert named == {name: run.info.run_id for name, run in runs_by_name(copy.tracking_uri, EXPERIMENT).items()}
    assert nothing_to_do(copy)
