"""Beyond one machine, for real: a one-node Slurm cluster and a PostgreSQL-backed MLflow server,
both on this machine (scripts/slurm-cluster.sh, scripts/mlflow-server.sh), and that server going
away while a chunk trains. They need root to install and start the daemons, as in CI."""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ONE_TASK, ROOT, SCHEMA, TWO_TASKS, Workflow, run_names, small_config, two_task_config
from daemons import Relay, credentials, free_port, http_status, needs_root, script
from nndl.config.validate import validate
from nndl.runs.names import ENV_JSON, LOGGED_FIGURES, PROJECT_FILE, TRACKED_RUNS
from nndl.runs.plan import resolve_runs
from nndl.tracking.delivery import Delivery
from mlflow_store import artifact_paths, metric_steps, runs_by_name

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]
RUN_NAMES = run_names(TWO_TASKS)


def assert_complete_runs(tracking_uri: str, experiment: str) -> dict:
    runs = runs_by_name(tracking_uri, experiment)
    assert set(runs) == RUN_NAMES
    epochs = {spec.name: spec.settings.epochs for spec in resolve_runs(validate(two_task_config(), SCHEMA))}
    for name, run in runs.items():
        assert run.info.status == "FINISHED", name
        for key in ("train/loss", "test/loss"):
            assert metric_steps(tracking_uri, run.info.run_id, key) == list(range(1, epochs[name] + 1)), (name, key)
        assert "final/test_loss" in run.data.metrics
    return runs


def test_slurm_profile_dry_run_needs_no_cluster(workflow):
    workflow.write_config(two_task_config())
    result = workflow.run("--profile", "profiles/slurm", "--dry-run")
    assert "rule train_chunk:" in result.stdout and "Job stats" in result.stdout


SLURM_OPTIONS = ["--profile", "profiles/slurm", "--slurm-status-command", "squeue",
                 "--default-resources", "slurm_partition=nndl", "mem_mb=1000", "runtime=10",
                 # The plugin first asks after a job 40 s in, then every 10 s more: these jobs take seconds.
                 "--slurm-init-seconds-before-status-checks", "2",
                 # The profile asks for a GPU; this cluster has none.
                 "--set-resources", "train_chunk:gpu=0", "env_check:gpu=0"]


def assert_slurm_ran_the_heavy_jobs(workflow, state: Path) -> None:
    """Snakemake's log names each job it handed to Slurm; Slurm's job-completion log has them all."""
    snakemake_log = max(workflow.path(".snakemake/log").glob("*.snakemake.log"), key=lambda log: log.stat().st_mtime)
    snakemake_log = snakemake_log.read_text()
    submitted = re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/", snakemake_log)
    rules = [rule for _, rule in submitted]
    assert sorted(set(rules)) == ["env_check", "train_chunk"]  # the light rules stay local
    # The chunks are cut by chunk_seconds, as on one machine: one per task, whatever --jobs allows.
    assert rules.count("train_chunk") == len(TWO_TASKS)
    completed = (state / "log" / "jobcomp.log").read_text()
    for job_id, rule in submitted:
        assert re.search(rf"^JobId={job_id} .*JobState=COMPLETED Partition=nndl", completed, re.MULTILINE), rule


@needs_root
def test_pipeline_runs_through_slurm_into_a_shared_mlflow_server(workflow, server_state, tmp_path, monkeypatch):
    """One pipeline as a team runs it: the heavy jobs on a Slurm cluster, every run in a server."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    port = free_port()
    env = {"NNDL_MLFLOW_STATE": str(server_state), "NNDL_MLFLOW_PORT": str(port),
           "NNDL_PG_PORT": str(free_port()), "NNDL_MLFLOW": str(ROOT / ".venv" / "bin" / "mlflow")}
    slurm = {"NNDL_SLURM_STATE": str(tmp_path / "slurm")}
    up = script("mlflow-server.sh", "up", env=env)
    uri = f"http://127.0.0.1:{port}"
    assert f"MLFLOW_TRACKING_URI={uri}" in up.stdout
    try:
        script("slurm-cluster.sh", "up", env=slurm)
        auth = server_state / "auth"
        admin = credentials(auth / "admin.env")
        assert oct(auth.stat().st_mode & 0o777) == "0o700"
        assert all(oct((auth / name).stat().st_mode & 0o777) == "0o600" for name in ("admin.env", "secret_key"))
        assert admin["MLFLOW_TRACKING_PASSWORD"] not in up.stdout + up.stderr
        search = f"{uri}/api/2.0/mlflow/runs/search"
        body = b'{"experiment_ids": ["0"]}'
        # Nobody gets in without the right password, the UI and artifacts included.
        assert http_status(search, data=body) == 401
        assert http_status(f"{uri}/") == 401
        assert http_status(f"{uri}/api/2.0/mlflow-artifacts/artifacts/anything") == 401
        assert http_status(search, "admin", "wrong", body) == 401
        assert http_status(search, "admin", "password1234", body) == 401  # MLflow's old well-known default
        assert http_status(search, "admin", admin["MLFLOW_TRACKING_PASSWORD"], body) == 200
        added = script("mlflow-server.sh", "add-user", "pipeline", "nndl-small", env=env)
        script("mlflow-server.sh", "add-user", "reader", "nndl-small", "READ", env=env)
        pipeline, reader = credentials(auth / "users" / "pipeline.env"), credentials(auth / "users" / "reader.env")
        assert pipeline["MLFLOW_TRACKING_PASSWORD"] not in added.stdout + added.stderr

        workflow.write_config(two_task_config())
        # A wrong password stops the pipeline before any job, naming the server and the variables.
        wrong = workflow.run(check=False, env=workflow.environment(
            MLFLOW_TRACKING_URI=uri, MLFLOW_TRACKING_USERNAME="pipeline", MLFLOW_TRACKING_PASSWORD="wrong"))
        output = wrong.stdout + wrong.stderr
        assert wrong.returncode != 0 and f"the MLflow server at {uri} refused" in output
        assert "MLFLOW_TRACKING_USERNAME" in output and not workflow.path("results").exists()
        as_admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": admin["MLFLOW_TRACKING_PASSWORD"]}
        with monkeypatch.context() as patched:
            for key, value in as_admin.items():
                patched.setenv(key, value)
            assert runs_by_name(uri, "nndl-small") == {}  # no run was created

        # Up to the job that logs the figures (the report reads no server); Slurm runs the env check
        # and the training chunks, the light jobs run here.
        workflow.run(LOGGED_FIGURES, ENV_JSON, *SLURM_OPTIONS, timeout=1200,
                     env=workflow.environment(MLFLOW_TRACKING_URI=uri, **pipeline))
        assert_slurm_ran_the_heavy_jobs(workflow, tmp_path / "slurm")
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", admin["MLFLOW_TRACKING_PASSWORD"])
        runs = assert_complete_runs(uri, "nndl-small")
        for name, run in runs.items():
            artifacts = artifact_paths(uri, run.info.run_id)
            assert {"history.json", "metrics.json", "predictions.json", "model.pt", "figures"} <= artifacts, name
            assert artifact_paths(uri, run.info.run_id, "figures"), name
        local = MlflowClient(tracking_uri=workflow.tracking_uri)  # nothing went to the local store
        assert local.get_experiment_by_name("nndl-small") is None
        assert any((server_state / "artifacts").rglob("history.json"))

        # No password reaches a file the project writes, nor the runs' params and tags.
        secrets = [admin["MLFLOW_TRACKING_PASSWORD"], pipeline["MLFLOW_TRACKING_PASSWORD"]]
        for folder in ("results", "logs", ".snakemake"):
            for path in workflow.path(folder).rglob("*"):
                if path.is_file():
                    content = path.read_bytes()
                    assert not any(secret.encode() in content for secret in secrets), path
        for run in runs.values():
            recorded = json.dumps({**run.data.params, **run.data.tags})
            assert not any(secret in recorded for secret in secrets)

        # READ can search but neither create nor delete a run.
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "reader")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", reader["MLFLOW_TRACKING_PASSWORD"])
        client = MlflowClient(tracking_uri=uri)
        experiment_id = client.get_experiment_by_name("nndl-small").experiment_id
        assert len(client.search_runs([experiment_id])) == len(runs)
        for attempt in (lambda: client.create_run(experiment_id),
                        lambda: client.delete_run(next(iter(runs.values())).info.run_id)):
            with pytest.raises(MlflowException) as denied:
                attempt()
            assert denied.value.get_http_status_code() == 403

        # Switching to the local store plans the chunk jobs: they record the runs there from their files.
        dry = workflow.run(LOGGED_FIGURES, "--dry-run")
        assert "holds no live record of it made by this project" in dry.stderr
        assert "rule train_chunk" in dry.stdout

        # A rotated admin password replaces the old one at once.
        rotated = script("mlflow-server.sh", "rotate-admin", env=env)
        new = credentials(auth / "admin.env")["MLFLOW_TRACKING_PASSWORD"]
        assert new != admin["MLFLOW_TRACKING_PASSWORD"] and new not in rotated.stdout + rotated.stderr
        assert http_status(search, "admin", admin["MLFLOW_TRACKING_PASSWORD"], body) == 401
        assert http_status(search, "admin", new, body) == 200
    finally:
        try:
            script("slurm-cluster.sh", "down", env=slurm)
        finally:
            script("mlflow-server.sh", "down", env=env)


# --- the team server going away while a chunk trains ---------------------------------------
# In this file, so that pytest-xdist (--dist loadfile) runs it on the worker that runs the Slurm
# test, after it: both mostly wait on daemons, and side by side they left the cores half idle.

def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start_training(workflow, target: str, env: dict, epochs: int):
    """Snakemake on `target`, returned once the first run's epoch 3 is in the job's log."""
    log = workflow.path(f"logs/train/{Path(target).stem}.log")
    process = subprocess.Popen(workflow.command(target), cwd=workflow.folder, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: process.poll() is not None or (log.exists() and f"epoch 3/{epochs}" in log.read_text()),
             240, "epoch 3")
    assert process.poll() is None, f"Snakemake stopped before epoch 3:\n{process.communicate()[0][-3000:]}"
    return process


def live_and_superseded(uri: str, name: str) -> tuple[list, list]:
    """(live runs, superseded runs) named `name`: with EDIT the pipeline marks what it replaces."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.search_runs([client.get_experiment_by_name("nndl-small").experiment_id],
                               filter_string=f"attributes.run_name = '{name}'")
    superseded = [run for run in found if run.data.tags.get("nndl.recorded") == "superseded"]
    return [run for run in found if run not in superseded], superseded


def project_of(workflow: Workflow) -> str:
    return json.loads(workflow.path(PROJECT_FILE).read_text())["id"]


def project_runs(client, project: str) -> dict[str, tuple]:
    """{run id: (lifecycle stage, status, end time, tags)} of every run `project` made, deleted ones too."""
    from mlflow.entities import ViewType

    experiment_id = client.get_experiment_by_name("nndl-small").experiment_id
    return {run.info.run_id: (run.info.lifecycle_stage, run.info.status, run.info.end_time, run.data.tags)
            for run in client.search_runs([experiment_id], f"tags.`nndl.project` = '{project}'",
                                          run_view_type=ViewType.ALL)}


OUTAGE_RUN_NAMES = run_names(ONE_TASK)


@needs_root
def test_the_server_going_away_mid_training_stalls_nothing_and_loses_nothing(workflow, server_state, tmp_path,
                                                                             monkeypatch):
    """As a team's pipeline user (EDIT, what add-user gives): an outage longer than the job waits:
    training goes on, the files are complete while the server is away, the job fails saying so,
    and a plain rerun records the runs from their files (the cut-short attempt ended and marked,
    not deleted: deleting needs MANAGE). An outage the job rides out: nothing missing. A
    teammate's clone keeps its runs beside these; a READ user is stopped at once."""
    env = {"NNDL_MLFLOW_STATE": str(server_state), "NNDL_MLFLOW_PORT": str(free_port()),
           "NNDL_PG_PORT": str(free_port()), "NNDL_MLFLOW": str(ROOT / ".venv" / "bin" / "mlflow")}
    script("mlflow-server.sh", "up", env=env)
    relay = Relay(int(env["NNDL_MLFLOW_PORT"]))
    uri = f"http://127.0.0.1:{relay.port}"
    try:
        auth = server_state / "auth"
        script("mlflow-server.sh", "add-user", "pipeline", "nndl-small", env=env)
        script("mlflow-server.sh", "add-user", "reader", "nndl-small", "READ", env=env)
        pipeline, reader = credentials(auth / "users" / "pipeline.env"), credentials(auth / "users" / "reader.env")
        for key, value in credentials(auth / "admin.env").items():  # this test's own reads
            monkeypatch.setenv(key, value)
        config = small_config(tasks=ONE_TASK)
        epochs = 60  # about 2 s a run on the stand-in: the outage starts at its epoch 3
        config["softmax"]["epochs"] = epochs
        config["mlflow"]["record_timeout_s"] = 5
        workflow.write_config(config)
        # MLflow's own retries cut to about 2 s, so both outages outlast them: the record rides
        # them out on the delivery's retries alone.
        job_env = workflow.environment(MLFLOW_TRACKING_URI=uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
                                       MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="1", **pipeline)
        target = "results/chunks/softmax-0-of-1.json"
        process = start_training(workflow, target, job_env, epochs)
        relay.cut()
        output = process.communicate(timeout=600)[0]
        assert process.returncode != 0
        assert f"the MLflow store at {uri} did not record these runs within 5 s" in output, output[-3000:]
        assert "Their files are complete on disk" in output and "last error: softmax-" in output
        records = {path: path.read_bytes() for path in workflow.path("results/runs").rglob("complete.json")}
        assert len(records) == 2  # both written while the server was away
        for path in records:
            seconds = [epoch["epoch_seconds"] for epoch in json.loads(path.with_name("history.json").read_text())["epochs"]]
            # An epoch that waited on the server would wait out MLflow's retries (about 2 s here) or
            # the outage (record_timeout_s and more); a busy machine slows one by a fraction of a second.
            assert max(seconds) < 2.0, f"an epoch waited on the server: {max(seconds):.2f} s"

        relay.restore()
        config["mlflow"]["record_timeout_s"] = 300  # recording the runs from their files takes its time
        workflow.write_config(config)
        healed = workflow.run(target, env=job_env)
        assert "Traceback" not in healed.stdout + healed.stderr
        manifest = json.loads(workflow.path(target).read_text())
        assert not any(row["trained"] for row in manifest["runs"])
        assert {path: path.read_bytes() for path in records} == records
        for name in ("softmax-scratch-seed0", "softmax-concise-seed0"):
            live, superseded = live_and_superseded(uri, name)
            assert [run.info.status for run in live] == ["FINISHED"], name
            assert all(run.info.status != "RUNNING" for run in superseded), name
            for key in ("train/loss", "test/accuracy"):
                assert metric_steps(uri, live[0].info.run_id, key) == list(range(1, epochs + 1)), (name, key)
        assert "Nothing to be done" in workflow.run("--dry-run", target, env=job_env).stdout

        # A teammate's clone (a project of its own) trains the same specs into the same server:
        # both keep their one live run each, and neither has anything left to do.
        teammate = Workflow.copy_of(workflow, tmp_path / "teammate")
        for made in (".nndl", "results", "logs", ".snakemake"):
            shutil.rmtree(teammate.path(made), ignore_errors=True)
        teammate.run(target, env=teammate.environment(MLFLOW_TRACKING_URI=uri, **pipeline))
        for name in ("softmax-scratch-seed0", "softmax-concise-seed0"):
            live, _ = live_and_superseded(uri, name)
            assert sorted(run.info.status for run in live) == ["FINISHED", "FINISHED"], name
            assert len({run.data.tags["nndl.project"] for run in live}) == 2, name
        teammate_env = teammate.environment(MLFLOW_TRACKING_URI=uri, **pipeline)
        assert "Nothing to be done" in workflow.run("--dry-run", target, env=job_env).stdout
        assert "Nothing to be done" in teammate.run("--dry-run", target, env=teammate_env).stdout
        # Each clone's runs.json names its own live runs on the server, and a third run does nothing.
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        for clone, clone_env in ((workflow, job_env), (teammate, teammate_env)):
            clone.run(TRACKED_RUNS, env=clone_env)
            project = json.loads(clone.path(PROJECT_FILE).read_text())["id"]
            named = json.loads(clone.path(TRACKED_RUNS).read_text())["pipeline_runs"]
            assert sorted(named) == sorted(OUTAGE_RUN_NAMES) and all(named.values()), named
            for run_id in named.values():
                run = client.get_run(run_id)
                assert (run.info.lifecycle_stage, run.info.status) == ("active", "FINISHED")
                assert run.data.tags["nndl.project"] == project and run.data.tags["nndl.recorded"] == "true"
            assert "Nothing to be done" in clone.run("--dry-run", TRACKED_RUNS, env=clone_env).stdout

        # A copy of the project (cp -a, the common way to try a variant) run by another EDIT user is
        # a project of its own: it records what it copied under its own identity, training nothing,
        # trains again the one run whose file changed, and marks, ends and deletes none of ours.
        script("mlflow-server.sh", "add-user", "variant", "nndl-small", env=env)
        ours = project_runs(client, project_of(workflow))
        experiment_id = client.get_experiment_by_name("nndl-small").experiment_id
        variant = Workflow.copy_of(workflow, tmp_path / "variant")
        variant_env = variant.environment(MLFLOW_TRACKING_URI=uri, **credentials(auth / "users" / "variant.env"))
        records = variant.records()
        copied = variant.run(TRACKED_RUNS, env=variant_env)
        assert f"this folder is a copy of {workflow.folder}" in copied.stderr and variant.records() == records
        assert project_of(variant) != project_of(workflow)
        metrics = variant.run_folder("softmax-scratch-seed0") / "metrics.json"
        metrics.write_text(metrics.read_text().replace("{", "{ ", 1))
        variant.run(TRACKED_RUNS, env=variant_env)
        assert [name for name, text in variant.records().items() if records[name] != text] == ["softmax-scratch-seed0"]
        assert project_runs(client, project_of(workflow)) == ours
        for project in (project_of(workflow), project_of(variant)):
            live = [run for run in client.search_runs([experiment_id], f"tags.`nndl.project` = '{project}'")
                    if run.data.tags.get("nndl.recorded") != "superseded"]
            assert sorted(run.info.run_name for run in live) == sorted(OUTAGE_RUN_NAMES), project
            assert all((run.info.status, run.data.tags["nndl.recorded"]) == ("FINISHED", "true") for run in live)
        assert "Nothing to be done" in workflow.run("--dry-run", TRACKED_RUNS, env=job_env).stdout
        tracked = workflow.run("--forcerun", "track_runs", TRACKED_RUNS, env=job_env)
        assert f"{len(OUTAGE_RUN_NAMES)} of the pipeline's {len(OUTAGE_RUN_NAMES)} runs are in 'nndl-small'" in \
            workflow.path("logs/tracking/track_runs.log").read_text(), tracked.stderr

        config["softmax"]["epochs"] = epochs + 1  # new specs, trained through an outage the job rides out
        workflow.write_config(config)
        new_runs = [workflow.run_folder(name) / "complete.json" for name in OUTAGE_RUN_NAMES]

        # A READ user is stopped before any job, with the permission and the fix named.
        started = time.monotonic()
        refused = workflow.run(target, check=False, env=workflow.environment(MLFLOW_TRACKING_URI=uri, **reader))
        said = refused.stdout + refused.stderr
        assert refused.returncode != 0 and time.monotonic() - started < 60
        assert "lets user 'reader' only READ experiment 'nndl-small'" in said, said[-3000:]
        assert "scripts/mlflow-server.sh grant reader nndl-small EDIT" in said and "rule train_chunk" not in said
        script("mlflow-server.sh", "grant", "reader", "nndl-small", "EDIT", env=env)  # the fix it names
        granted = workflow.run("--dry-run", target, env=workflow.environment(MLFLOW_TRACKING_URI=uri, **reader))
        assert "rule train_chunk" in granted.stdout

        process = start_training(workflow, target, job_env, epochs + 1)
        relay.cut()
        # The outage lasts until both runs' files are complete, then two of the delivery's retry
        # periods more: MLflow's own retries (about 2 s) have given up, the delivery's carry the record.
        wait_for(lambda: process.poll() is not None or all(path.exists() for path in new_runs), 240,
                 "both runs complete")
        time.sleep(2 * Delivery.RETRY_SECONDS)
        relay.restore()
        output = process.communicate(timeout=600)[0]
        assert process.returncode == 0, output[-3000:]
        waited = re.search(r"waited ([\d.]+) s for the store to record the runs", workflow.path(
            f"logs/train/{Path(target).stem}.log").read_text())
        assert waited and float(waited.group(1)) > Delivery.RETRY_SECONDS, "the job never waited on the outage"
        runs = client.search_runs([client.get_experiment_by_name("nndl-small").experiment_id],
                                  filter_string=f"params.epochs = '{epochs + 1}'")
        assert sorted(run.info.run_name for run in runs) == sorted(OUTAGE_RUN_NAMES)
        assert all(run.info.status == "FINISHED" for run in runs)
        for run in runs:
            assert metric_steps(uri, run.info.run_id, "train/loss") == list(range(1, epochs + 2))
    finally:
        relay.cut()
        script("mlflow-server.sh", "down", env=env)
