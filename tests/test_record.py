"""A record a team can trust, for real (Snakemake, MLflow, sqlite): the store is asked where the
workflow is parsed, a teammate's runs are never touched, a deleted run or experiment is noticed,
and a number that changed after its run wrote it is never shown. Each test works on a copy of one
small finished project (softmax alone, seed 0, up to the runs read back from MLflow)."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest
from mlflow.tracking import MlflowClient

from conftest import ONE_TASK, Workflow, output_of, run_names, small_config
from mlflow_store import forget_stores, runs_by_name, statuses_by_name
from nndl.errors import DamagedFileError
from nndl.runs import names, outputs
from nndl.tracking.tags import PROJECT_TAG, RECORDED_TAG, WHOLE, project_filter

pytestmark = pytest.mark.e2e
EXPERIMENT = "nndl-small"
RUN_NAMES = run_names(ONE_TASK)


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> Workflow:
    workflow = Workflow(tmp_path_factory.mktemp("recorded") / "project")
    workflow.write_config(small_config(tasks=ONE_TASK))
    workflow.run(names.TRACKED_RUNS)
    return workflow


@pytest.fixture
def copy(recorded, tmp_path) -> Workflow:
    forget_stores()
    return Workflow.moved_from(recorded, tmp_path / "x 项目 dir")


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


def printed(output: str, before: str, after: str) -> str:
    """The command a message prints between `before` and `after`."""
    start = output.index(before) + len(before)
    return output[start:output.index(after, start)]


def paste(command: str, workflow: Workflow, env: dict | None = None) -> None:
    """Run a printed command as a user pasting it into bash in the project folder would."""
    result = subprocess.run(["bash", "-c", command], cwd=workflow.folder, env=env or workflow.environment(),
                            capture_output=True, text=True)
    assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"


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
    assert f"the MLflow experiment {EXPERIMENT!r} (id {experiment_id})" in output
    assert "rule train_chunk" not in output
    # The folder's name has a space and Chinese characters: the command pastes as printed.
    command = printed(output, "Restore it: ", " (or log to another one")
    assert f"mlflow experiments restore --experiment-id {experiment_id}" in command
    paste(command, copy)
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
    other = small_config(tasks=ONE_TASK)
    other["softmax"]["epochs"] += 1
    copy.write_config(other)
    copy.run(names.TRACKED_RUNS)
    copy.write_config(small_config(tasks=ONE_TASK))
    records = copy.records()
    copy.run(names.TRACKED_RUNS)  # the chunk job runs (its params changed back) and trains nothing
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


# Copies, lost notes and full disks: after each, one live FINISHED run per name and project, none
# RUNNING, nothing complete trained again, the other project's runs and files untouched.


def snapshot(folder) -> dict[str, tuple[int, int]]:
    """{file: (bytes, mtime)} of everything in a project folder: what another project must not change."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*") if path.is_file()}


def runs_of(uri: str, project: str) -> dict[str, tuple]:
    """{run id: (lifecycle stage, status, end time, tags)} of every run `project` made, deleted ones too."""
    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    return {run.info.run_id: (run.info.lifecycle_stage, run.info.status, run.info.end_time, run.data.tags)
            for run in client.search_runs([experiment_id], project_filter(project), run_view_type=ViewType.ALL)}


def live_records(uri: str, project: str) -> dict[str, str]:
    """{run name: run id} of `project`'s live runs, each name's one FINISHED whole record (asserted)."""
    client = MlflowClient(tracking_uri=uri)
    found = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id], project_filter(project))
    by_name: dict[str, list] = {}
    for run in found:
        by_name.setdefault(run.info.run_name, []).append(run)
    for name, runs in by_name.items():
        assert [(run.info.status, run.data.tags.get(RECORDED_TAG)) for run in runs] == [("FINISHED", WHOLE)], name
    return {name: runs[0].info.run_id for name, runs in by_name.items()}


def test_a_copy_in_a_shared_store_is_a_project_of_its_own(recorded, tmp_path):
    """cp -a of a project that records into a shared store: the copy is another project from its
    first run, records what it copied under its own identity (training nothing), trains its new
    seed, and leaves the original's runs and files as they were; neither has anything left to do."""
    shared = f"sqlite:///{tmp_path / 'team' / 'shared.db'}"
    original = Workflow.moved_from(recorded, tmp_path / "A")
    original.run(names.TRACKED_RUNS, env=original.environment(MLFLOW_TRACKING_URI=shared))
    theirs = runs_of(shared, project_of(original))
    assert len(theirs) == len(RUN_NAMES)
    copy = Workflow.copy_of(original, tmp_path / "B")
    files, records = snapshot(original.folder), copy.records()
    env = copy.environment(MLFLOW_TRACKING_URI=shared)
    result = copy.run(names.TRACKED_RUNS, "--config", "seeds=[0,1]", env=env)
    assert f"nndl: this folder is a copy of {original.folder} (project {project_of(original)})" in result.stderr
    assert project_of(copy) != project_of(original)
    assert trained_again(copy, records) == sorted(name.replace("seed0", "seed1") for name in RUN_NAMES)
    assert runs_of(shared, project_of(original)) == theirs and snapshot(original.folder) == files
    assert set(live_records(shared, project_of(copy))) == RUN_NAMES | {n.replace("seed0", "seed1") for n in RUN_NAMES}
    assert set(live_records(shared, project_of(original))) == RUN_NAMES
    assert "Nothing to be done" in copy.run("--dry-run", names.TRACKED_RUNS, "--config", "seeds=[0,1]", env=env).stdout
    assert nothing_to_do(original, env=original.environment(MLFLOW_TRACKING_URI=shared))


def test_a_copy_with_its_own_store_is_stopped_with_the_fix_and_writes_nothing_into_the_original(recorded, tmp_path):
    """cp -a of a project with its own mlflow.db, the original then moved away: the copy is another
    project, and its copied store (whose experiment keeps its files in the original's folder) is
    noticed before any job, with a command that pastes as printed (a path with a space and Chinese
    characters); after it, the copy records every run in a store of its own, training none."""
    original = Workflow.moved_from(recorded, tmp_path / "A 项目")
    their_project = project_of(original)
    theirs = runs_of(original.tracking_uri, their_project)
    copy = Workflow.copy_of(original, tmp_path / "B 项目")
    moved = tmp_path / "A 项目 moved"
    original.folder.rename(moved)
    files, records = snapshot(moved), copy.records()
    stopped = copy.run("--dry-run", check=False)
    output = output_of(stopped)
    assert stopped.returncode != 0 and "rule train_chunk" not in output
    assert f"nndl: this folder is a copy of {original.folder}" in stopped.stderr
    assert f"keeps its runs' files in {original.folder / 'mlartifacts'}, outside it" in output
    paste(printed(output, "Give this project a store of its own: ", ", then run snakemake again"), copy)
    forget_stores()
    copy.run(names.TRACKED_RUNS)
    assert trained_again(copy, records) == [] and not original.folder.exists() and snapshot(moved) == files
    client = MlflowClient(tracking_uri=copy.tracking_uri)
    for run_id in live_records(copy.tracking_uri, project_of(copy)).values():
        assert client.get_run(run_id).info.artifact_uri.startswith(copy.folder.resolve().as_uri())
    assert set(live_records(copy.tracking_uri, project_of(copy))) == RUN_NAMES and nothing_to_do(copy)
    moved_store = f"sqlite:///{moved / 'mlflow.db'}"
    assert runs_of(moved_store, their_project) == theirs


def test_a_lost_nndl_folder_loses_nothing(copy):
    """rm -rf .nndl in a finished project: the identity is read back from results/, so the store's
    runs are still this project's: none is recorded again, none superseded."""
    project = project_of(copy)
    before, records = runs_of(copy.tracking_uri, project), copy.records()
    shutil.rmtree(copy.path(".nndl"))
    result = copy.run(names.TRACKED_RUNS)
    assert f"nndl: {names.PROJECT_FILE} was missing: this project's identity ({project}) is read back" in result.stderr
    assert project_of(copy) == project and trained_again(copy, records) == []
    assert runs_of(copy.tracking_uri, project) == before and nothing_to_do(copy)


@pytest.fixture
def small_disk(tmp_path):
    """A 700 kB file system (tmpfs): too small for MLflow to make its store's schema."""
    folder = tmp_path / "small disk"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root and a system that allows mount (CI runs as root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


OPEN_STORE = "import sys; from mlflow.tracking import MlflowClient; MlflowClient(tracking_uri=sys.argv[1]).search_experiments()"


def test_a_store_half_made_by_a_full_disk_is_set_aside_before_any_job(copy, small_disk):
    """MLflow making a store on a full disk leaves it half-made (Alembic's _alembic_tmp_ table), and
    MLflow cannot open it even once there is space again. The workflow finds it before any job and,
    as it holds no run, sets it aside; the pipeline records every run in a new store, training none."""
    database = small_disk / "shared.db"
    uri = f"sqlite:///{database}"
    made = subprocess.run([sys.executable, "-c", OPEN_STORE, uri], capture_output=True, text=True)
    assert made.returncode != 0 and "database or disk is full" in made.stderr
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    with closing(sqlite3.connect(database)) as store:
        assert store.execute("SELECT name FROM sqlite_master WHERE name LIKE '\\_alembic\\_tmp\\_%' ESCAPE '\\'").fetchall()
    still = subprocess.run([sys.executable, "-c", OPEN_STORE, uri], capture_output=True, text=True)
    assert still.returncode != 0 and "_alembic_tmp_" in still.stderr  # space alone does not mend it
    records = copy.records()
    result = copy.run(names.TRACKED_RUNS, env=copy.environment(MLFLOW_TRACKING_URI=uri))
    assert f"nndl: the MLflow store {database} was left half-made" in result.stderr
    assert "held no run: it is set aside as shared.db.half-made-" in result.stderr
    assert trained_again(copy, records) == [] and set(live_records(uri, project_of(copy))) == RUN_NAMES
    assert len(list(small_disk.glob("shared.db.half-made-*"))) == 1


def test_a_half_made_store_that_holds_runs_stops_before_any_job_with_the_fix(copy):
    """A store whose schema change was cut short while it held runs (its leftover table, its old
    revision): MLflow cannot open it; the workflow stops before any job with the command that sets
    it aside, and after it every run is recorded in a new store, training none."""
    from nndl.tracking.local_store import revisions

    database = copy.path("mlflow.db")
    head, _ = revisions()
    with closing(sqlite3.connect(database)) as store, store:
        store.execute("CREATE TABLE _alembic_tmp_experiments AS SELECT * FROM experiments")
        store.execute("UPDATE alembic_version SET version_num = ?", (f"{head}-cut-short",))
    stopped = copy.run("--dry-run", check=False)
    output = output_of(stopped)
    assert stopped.returncode != 0 and "rule train_chunk" not in output
    assert f"the MLflow store {database} was left half-made" in output and f"holds {len(RUN_NAMES)} runs" in output
    paste(printed(output, "Keep it aside and start a new store: ", ", then run snakemake again"), copy)
    forget_stores()
    records = copy.records()
    copy.run(names.TRACKED_RUNS)
    assert trained_again(copy, records) == [] and set(live_records(copy.tracking_uri, project_of(copy))) == RUN_NAMES
    assert copy.path("mlflow.db.half-made").exists()
