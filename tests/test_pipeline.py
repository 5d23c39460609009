"""The real pipeline on the small config, end to end: Snakemake, training, evaluation, MLflow."""

import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest
import yaml
from mlflow.tracking import MlflowClient

from conftest import ROOT, SCHEMA, Workflow, output_of, small_config
from nndl.data import naming
from nndl.config.validate import validate
from nndl.runs import names, record
from nndl.runs.plan import resolve_runs
from nndl.tasks.runspec import RunSpec, spec_hash
from nndl.tracking.recording import run_params
from nndl.runs.names import TRACKED_RUNS
from nndl.report import catalog
from nndl.tasks.registry import TASKS
from nndl.tasks.types import IMPLS
from nndl.tracking.run import flatten_params
from mlflow_store import artifact_paths, forget_stores, logged_models, metric_steps, runs_by_name, statuses_by_name
from snakemake_report import MOST_PARAMS, SnakemakeReport, links, warning_lines

pytestmark = pytest.mark.e2e
RUN_NAMES = [f"{task}-{impl}-seed0" for task in TASKS for impl in IMPLS]  # every task's, the mlp's too
CLASSIFIER_EPOCH_METRICS = ["train/loss", "train/accuracy", "test/loss", "test/accuracy", "epoch_seconds"]
EPOCH_METRICS = {name: CLASSIFIER_EPOCH_METRICS if task.classify else ["train/loss", "test/loss", "epoch_seconds"]
                 for name, task in TASKS.items()}


SEEDS = [0, 1]


def validated(raw: dict) -> dict:
    from nndl.config.validate import validate

    return validate(raw, SCHEMA)
RUN_NAMES_ALL_SEEDS = [name.replace("seed0", f"seed{seed}") for seed in SEEDS for name in RUN_NAMES]


def git(folder, *args):
    subprocess.run(["git", "-c", "user.name=nndl tests", "-c", "user.email=tests@nndl.invalid", *args],
                   cwd=folder, check=True, capture_output=True)


# Session scope: built once on the worker that runs this module, even if other modules' tests run
# between its tests there (a module fixture would be torn down and built again).
@pytest.fixture(scope="session")
def finished(tmp_path_factory) -> Workflow:
    """The whole pipeline on the small config with two seeds, in a git checkout of its own."""
    workflow = Workflow(tmp_path_factory.mktemp("pipeline") / "project")
    workflow.write_config(small_config(seeds=SEEDS))
    git(workflow.folder, "init", "-q")
    shutil.copy(ROOT / ".gitignore", workflow.path(".gitignore"))  # the store is not the project's source
    git(workflow.folder, "add", ".")
    git(workflow.folder, "commit", "-q", "-m", "test checkout")
    workflow.console = output_of(workflow.run())  # what a person running it sees
    return workflow


def test_dry_run_lists_the_pipeline_rules(workflow):
    workflow.write_config(small_config())
    output = workflow.run("--dry-run").stdout
    for rule in ["env_check", "fashion_mnist", "synthetic_data", "train_chunk", "track_runs", "figures",
                 "log_figures", "summary_report"]:
        assert f"rule {rule}:" in output
    # --cores 2: one training job per task, each training that task's runs in one process.
    assert output.count("rule train_chunk:") == len(TASKS) and "evaluate" not in output  # a chunk per task


def test_lint_is_clean(workflow):
    result = workflow.run("--lint")
    output = result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in output


def test_the_pipelines_console_holds_no_warning_lines(finished):
    """Not one warning from any library (matplotlib, MLflow, torch, papermill, Snakemake): the
    report's kernel talks over IPC, not unencrypted TCP (ipykernel warned on every report)."""
    assert warning_lines(finished.console) == []


def test_env_json_records_versions_and_device(finished):
    env = json.loads(finished.path("results/env.json").read_text())
    assert set(env["versions"]) >= {"torch", "torchvision", "snakemake", "mlflow"}
    assert env["device"] in ("cpu", "cuda") and isinstance(env["cuda_available"], bool)
    assert env["cpu_count"] >= 1 and env["torch_threads"] >= 1


def pipeline_studies():
    return [
        {"name": "lr", "question": "3.2: Which learning rates diverge?", "task": "linreg", "impls": ["scratch"],
         "vary": {"learning_rate": [0.03, 30.0]}, "seeds": [0, 1]},
        {"name": "shuffle", "question": "3.7: Does reshuffling matter?", "task": "softmax", "impls": ["scratch"],
         "vary": {"shuffle": [True, False]}, "seeds": [0]},
    ]


def test_the_pipeline_tracks_summarises_and_reports_studies(finished, tmp_path):
    """Studies added to the finished project (a copy): only their runs train, and the pipeline
    tracks, summarises and reports them."""
    workflow = Workflow.moved_from(finished, tmp_path / "project")
    default_records = workflow.records()
    raw = small_config(seeds=SEEDS)
    raw["studies"] = pipeline_studies()
    workflow.write_config(raw)
    assert warning_lines(output_of(workflow.run())) == []
    assert {name: workflow.records()[name] for name in default_records} == default_records  # not trained again
    client = MlflowClient(tracking_uri=workflow.tracking_uri)
    experiment = client.get_experiment_by_name(raw["mlflow"]["experiment"])
    parent_id = json.loads(workflow.path(names.STUDY_SUMMARY.format(study="lr")).read_text())["parent_run_id"]
    children = client.search_runs([experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'")
    assert len(children) == 4
    assert sorted(child.data.params["learning_rate"] for child in children) == ["0.03", "0.03", "30.0", "30.0"]
    # A study run that trained ends FINISHED, diverged or not: its outcome is its tag.
    assert all(child.info.status == "FINISHED" for child in children)
    diverged = [child for child in children if child.data.tags["outcome"] != "ok"]
    assert len(diverged) == 2 and all(child.data.params["learning_rate"] == "30.0" for child in diverged)
    assert all(child.data.tags["outcome"].startswith("diverged at epoch 1") for child in diverged)
    assert all(child.data.tags["mlflow.source.name"] == "workflow/scripts/train_chunk.py" for child in children)
    parent = client.get_run(parent_id)
    # The parent's Duration in the runs table spans its runs: it starts before the first, ends with the last.
    assert parent.info.status == "FINISHED"
    assert parent.info.start_time <= min(child.info.start_time for child in children)
    assert parent.info.end_time == max(child.info.end_time for child in children)
    assert parent.info.run_name == "study: lr" and parent.data.tags["study.vary.learning_rate"] == "[0.03, 30.0]"
    assert parent.data.tags["mlflow.note.content"].startswith("3.2: Which learning rates diverge?")
    assert "**Answer:** learning_rate >= 30.0 diverged in 2 of 2 runs" in parent.data.tags["mlflow.note.content"]
    artifacts = {item.path for item in client.list_artifacts(parent_id, "study")}
    assert {"study/summary.json", "study/metric.png", "study/curves.png"} <= artifacts
    default = client.search_runs([experiment.experiment_id], "attributes.run_name = 'softmax-scratch-seed0'")[0]
    assert sorted(item.dataset.name for item in default.inputs.dataset_inputs) == [
        "fashion-mnist-stand-in", "fashion-mnist-stand-in-test"]  # trained and tested on (test_names.py)
    # The theory beside the answer: the threshold 2 / lambda_max of the runs' own training data.
    summary = json.loads(workflow.path(names.STUDY_SUMMARY.format(study="lr")).read_text())
    # Its data is the run's dataset, not params (a run's params are its settings): its record names the file.
    data = record.read(workflow.path(children[0].data.tags["nndl.run_dir"])).spec.data
    assert "data.path" not in children[0].data.params and children[0].inputs.dataset_inputs
    arrays = np.load(workflow.path(data.path))
    inputs = np.hstack([arrays["X_train"].astype(np.float64), np.ones((len(arrays["X_train"]), 1))])
    assert summary["theory"]["predicted"] == pytest.approx(2 / np.linalg.eigvalsh(inputs.T @ inputs / len(inputs)).max())
    assert summary["theory"]["verdict"] == "agrees" and summary["theory"]["measured"] == pytest.approx(15.015)
    assert "**Theory:** Gradient descent on this loss is stable only for lr < 2 / (c lambda_max)" in \
        parent.data.tags["mlflow.note.content"]
    html = workflow.path(names.STUDIES_REPORT).read_text()
    assert "3.2: Which learning rates diverge?" in html and "diverged in 2 of 2 runs" in html
    assert html.count("Theory:") == 2 and "verdict: agrees" in html and "verdict: inconclusive" in html
    assert "studies.html" in workflow.path("results/report/summary.html").read_text()
    check_studies_in_snakemakes_report(workflow, tmp_path / "report.zip")

    # Editing one study plans that study's runs and report again, nothing of the other study (a
    # chunk trains only its runs that are not complete: test_chunks.py).
    raw["studies"][1]["seeds"] = [0, 1]
    workflow.write_config(raw)
    planned = [line.split(":", 1)[1].strip() for line in workflow.run("--dry-run").stdout.splitlines()
               if line.strip().startswith("output:")]
    assert any(outputs.startswith("results/chunks/study-shuffle-0-of-1.json") for outputs in planned)
    assert not [outputs for outputs in planned if "study-lr" in outputs or "studies/lr/" in outputs
                or outputs.startswith(("results/chunks/linreg", "results/chunks/softmax"))]


def check_studies_in_snakemakes_report(workflow: Workflow, path) -> None:
    """In Snakemake's report (report.zip): the study figures' panels are short, and the summary's
    link to the studies report (beside it, 'studies.html') reaches it inside the zip too, as does
    the summary's caption."""
    workflow.run("--report", str(path))
    report = SnakemakeReport(path)
    check_report_panels(report)
    assert report.panel_params()["results/studies/lr/metric.png"].startswith(
        "study=the definition of lr, varying learning_rate, runs=4 run specs: the runs of study lr, specs=")
    summary, studies = "results/report/summary.html", names.STUDIES_REPORT
    (link,) = [link for link in links(report.item(summary)) if "data-report-href" in link]
    assert link["href"] == "studies.html" and workflow.path("results/report/studies.html").is_file()  # beside it
    assert report.resolves(summary, link["data-report-href"]) and not report.resolves(summary, "studies.html")
    assert f"javascript:app.showResultInfo('{studies}')" in report.results[summary]["caption"]


def test_numbers_and_lists_as_people_write_them_plan_the_runs_they_mean(finished, tmp_path):
    """`learning_rate: 3e-2` (text to YAML 1.1) and `--config seeds=[0,1]` (text inside the list, as
    Snakemake hands it over) are the finished project's runs, trained on seeds 0 and 1 at 0.03:
    nothing is planned. Written as the numbers they are not, they would be refused or retrained."""
    workflow = Workflow.moved_from(finished, tmp_path / "project")
    path = workflow.write_config(small_config(seeds=[0]))
    text = path.read_text().replace("learning_rate: 0.03", "learning_rate: 3e-2")
    assert yaml.safe_load(text)["linreg"]["learning_rate"] == "3e-2"  # what PyYAML makes of it
    workflow.path("config/config.yaml").write_text(text)
    result = workflow.run("--dry-run", "--config", "seeds=[0,1]")
    assert f"nndl: the config plans {2 * len(IMPLS) * len(TASKS)} runs" in result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr
    one_epoch = workflow.run("--dry-run", "--config", "seeds=[0,1]", "linreg={epochs: 1}")
    assert sorted(wildcards for rule, wildcards in parse_jobs(one_epoch.stdout) if rule == "train_chunk") == \
        ["group=linreg, part=0, parts=1"]


def test_every_default_run_finished_with_every_epoch_step(finished):
    runs = runs_by_name(finished.tracking_uri, "nndl-small")
    assert sorted(runs) == sorted(f"{name[:-1]}{seed}" for name in RUN_NAMES for seed in SEEDS)
    for name, run in runs.items():
        task = name.split("-")[0]
        assert run.info.status == "FINISHED", name
        epochs = validated(small_config())[task]["epochs"]  # the mlp's from the schema's defaults
        for key in EPOCH_METRICS[task]:
            assert metric_steps(finished.tracking_uri, run.info.run_id, key) == list(range(1, epochs + 1)), key
        assert run.data.tags["task"] == task and run.data.tags["config_hash"]
        assert run.data.params["learning_rate"] == str(validated(small_config())[task]["learning_rate"])
        assert set(TASKS[task].metrics) <= set(run.data.metrics), name  # every final metric it declares
        artifacts = artifact_paths(finished.tracking_uri, run.info.run_id)
        assert {"history.json", "metrics.json", "predictions.json", "model.pt"} <= artifacts
        models = logged_models(finished.tracking_uri, run.info.run_id)
        assert len(models) == (1 if name.split("-")[1] == "concise" else 0), name


def test_logged_model_predicts_like_the_saved_weights(finished):
    import mlflow.pytorch
    import torch

    run = runs_by_name(finished.tracking_uri, "nndl-small")["softmax-concise-seed0"]
    (model,) = logged_models(finished.tracking_uri, run.info.run_id)
    # Named for its run, logged from the workflow's script (not Snakemake's temporary copy of it).
    assert model.name == "softmax-concise-seed0" and model.tags["mlflow.source.name"] == "workflow/scripts/train_chunk.py"
    mlflow.set_tracking_uri(finished.tracking_uri)
    net = mlflow.pytorch.load_model(model.model_uri)
    state = torch.load(finished.run_folder("softmax-concise-seed0") / "model.pt", weights_only=True)
    X = torch.rand(5, 28, 28)
    expected = X.reshape(5, -1) @ state["1.weight"].T + state["1.bias"]
    assert torch.allclose(net(X), expected, atol=1e-5)


def test_run_outputs_and_metrics(finished):
    for name in RUN_NAMES:
        task, impl, _ = name.split("-")
        folder = finished.run_folder(name)
        metrics = json.loads((folder / "metrics.json").read_text())
        run = runs_by_name(finished.tracking_uri, "nndl-small")[name]
        assert run.data.tags["nndl.run_key"] == record.read(folder).key and run.info.status == "FINISHED"
        if task == "linreg":
            assert metrics["vs_truth"]["max_abs_w_error"] < 0.01 and metrics["vs_truth"]["abs_b_error"] < 0.01
            assert metrics["vs_closed_form"]["max_abs_w_error"] < 0.01
        elif not TASKS[task].classify:  # a regression of chapter 4: it learned, far below its start
            history = json.loads((folder / "history.json").read_text())
            assert metrics["test/loss"] < history["untrained"]["untrained/test_loss"] / 10, name
        else:
            assert metrics["test/accuracy"] > 0.7
            assert len(metrics["per_class_accuracy"]) == 10
            confusion = metrics["confusion_matrix"]
            assert sum(map(sum, confusion)) == small_config()["data"]["fashion_mnist"]["generate"]["test"]
            predictions = json.loads((folder / "predictions.json").read_text())
            assert len(predictions["true"]) == 20 and len(predictions["images"][0]) == 28


def test_report_is_rendered_with_every_figure_and_no_errors(finished):
    notebook = json.loads(finished.path("results/report/summary.ipynb").read_text())
    outputs = [output for cell in notebook["cells"] for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    assert not [output for output in outputs if output.get("name") == "stderr"]
    html = finished.path("results/report/summary.html").read_text()
    assert html.count('src="data:image/png;base64') == 1 + len(catalog.SEED_FIGURES)  # samples + seed 0's figures
    for task in TASKS.values():  # each task's section, named for its data, and the book's numbers of a task that has them
        data = record.read(finished.run_folder(f"{task.name}-scratch-seed0")).spec.data
        assert f">{naming.titled(task.heading, data)}" in html and all(result.source in html for result in task.book)
    # The small config's images are a generated stand-in: never called Fashion-MNIST, never set beside the book.
    assert ">Softmax regression on generated stand-in data" in html and "Fashion-MNIST" not in html
    # The book's numbers beside the runs on generated linear data (the book's own kind of data), alone beside theirs.
    on_images = [task for task in TASKS.values() if task.book and task.data.images]
    assert html.count(", alone: these runs trained on") == len(on_images)
    assert html.count("beside this run's; a dash") == len([task for task in TASKS.values() if task.book]) - len(on_images)
    for text in ["Linear regression", "w error (true - w)", "untrained test accuracy", "FINISHED",
                 "softmax-scratch-seed0", "mlflow ui", "T恤"]:
        assert text in html, text
    assert "def show(" not in html  # code cells are hidden
    for heading in ("Environment", "Linear regression", "Softmax regression"):
        assert f">{heading}" in html, heading
    accuracy = json.loads(finished.run_folder("softmax-scratch-seed0").joinpath("metrics.json").read_text())["test/accuracy"]
    assert f"{accuracy:.4f}"[:5] in html  # the run's own test accuracy is reported


def test_figures_are_logged_into_their_runs(finished):
    runs = runs_by_name(finished.tracking_uri, "nndl-small")
    figures = artifact_paths(finished.tracking_uri, runs["softmax-scratch-seed0"].info.run_id, "figures")
    assert {"figures/softmax-scratch-curves.png", "figures/softmax-comparison.png",
            "figures/fashion-mnist-samples.png"} <= figures
    assert not any("concise-curves" in path for path in figures)
    linreg = artifact_paths(finished.tracking_uri, runs["linreg-concise-seed0"].info.run_id, "figures")
    assert linreg == {"figures/linreg-loss.png", "figures/linreg-trajectory.png"}


def test_editing_the_plotting_module_reruns_only_figures_and_report(finished):
    plotting = finished.path("src/nndl/report/plots.py")
    original, stat = plotting.read_text(), plotting.stat()
    plotting.write_text(original + "\nEDITED = True\n")  # code: a comment changes no fingerprint
    try:
        jobs = {rule for rule, _ in planned_jobs(finished)}
    finally:  # put it back as it was, so later tests see an up-to-date pipeline
        plotting.write_text(original)
        os.utime(plotting, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert jobs == {"figure_samples", "figures", "log_figures", "summary_report", "all"}


# Which module reruns which rule is checked for every module in tests/test_code.py; this checks that
# Snakemake acts on it, for one module training imports.
def test_editing_a_module_that_training_imports_reruns_training(finished):
    path = finished.path("src/nndl/learn/loop.py")
    original, stat = path.read_text(), path.stat()
    path.write_text(original + "\nEDITED = True\n")
    try:
        jobs = planned_jobs(finished)
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    tasks = sorted(wildcards.split("group=")[1].split(",")[0] for rule, wildcards in jobs if rule == "train_chunk")
    assert tasks == sorted(TASKS)


def test_snakemake_report_is_produced(finished):
    result = finished.run("--report", "results/report/snakemake-report.html")
    report = finished.path("results/report/snakemake-report.html")
    assert report.stat().st_size > 10_000, result.stderr


def check_report_panels(report: SnakemakeReport) -> None:
    """No panel lists raw specs: every panel's params are a few hundred characters at most."""
    params = report.panel_params()
    assert params and {path: len(text) for path, text in params.items() if len(text) > MOST_PARAMS} == {}
    assert not [path for path, text in params.items() if "'batch_size'" in text or "results/runs/" in text]


def test_snakemake_reports_panels_are_short_and_its_intro_names_every_task(finished, tmp_path):
    result = finished.run("--report", str(tmp_path / "report.zip"))
    assert warning_lines(output_of(result)) == []
    report = SnakemakeReport(tmp_path / "report.zip")
    check_report_panels(report)
    figures = report.panel_params()["results/figures/seed-0/softmax-scratch-confusion.png"]
    assert figures.startswith(f"runs={len(RUN_NAMES)} run specs: the default runs of seed 0, specs=")
    for task in TASKS.values():  # the registry's every task, named for its data
        data = record.read(finished.run_folder(f"{task.name}-scratch-seed0")).spec.data
        assert f"<li>{naming.titled(task.heading, data)}</li>" in report.intro, task.name


def test_runs_record_what_reproduces_them(finished):
    run = runs_by_name(finished.tracking_uri, "nndl-small")["softmax-concise-seed1"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=finished.folder, capture_output=True,
                          text=True).stdout.strip()
    tags = run.data.tags
    assert tags["git_commit"] == head and tags["git_dirty"] == "False"
    assert len(tags["config_hash"]) == 12 and tags["device"] in ("cpu", "cuda")
    assert tags["version.torch"] and tags["version.mlflow"] and tags["version.python"]
    assert run.data.params["seed"] == "1" and tags["torch_threads"] == "1"
    # The run's params are its spec's settings, and its config_hash is the spec's hash (not the whole config's).
    marker = record.read(finished.run_folder("softmax-concise-seed1")).to_json()
    assert tags["config_hash"] == spec_hash(RunSpec.from_json(marker["spec"])) == marker["spec_hash"]
    settings = run_params(RunSpec.from_json(marker["spec"]))
    assert run.data.params == {key: str(value) for key, value in flatten_params(settings).items()}
    assert tags["nndl.run_dir"] == marker["spec"]["dir"] and tags["mlflow.source.name"] == "workflow/scripts/train_chunk.py"


def without_times(history):
    return [{k: v for k, v in e.items() if k != "epoch_seconds"} for e in history["epochs"]]


def test_other_seeds_give_other_numbers(finished):
    histories = [json.loads(finished.run_folder(f"softmax-scratch-seed{seed}").joinpath("history.json").read_text())
                 for seed in SEEDS]
    assert without_times(histories[0]) != without_times(histories[1])


def planned_jobs(workflow, *args, env=None) -> list[tuple[str, str]]:
    """(rule, wildcards) of each job a dry run would execute."""
    result = subprocess.run(workflow.command("--dry-run", *args), cwd=workflow.folder,
                            env=env or workflow.environment(), capture_output=True, text=True, check=True)
    return parse_jobs(result.stdout)


def parse_jobs(dry_run: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of each job in a dry run's output."""
    jobs, rule = [], None
    for line in dry_run.splitlines():
        if line.startswith(("rule ", "localrule ")):
            if rule:
                jobs.append((rule, ""))
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("wildcards:") and rule:
            jobs.append((rule, line.split(":", 1)[1].strip()))
            rule = None
    if rule:
        jobs.append((rule, ""))
    return jobs


def test_changing_one_task_reruns_only_that_task(finished):
    config = small_config(seeds=SEEDS)
    config["softmax"]["learning_rate"] = 0.2
    finished.write_config(config)
    try:
        jobs = planned_jobs(finished)
    finally:
        finished.write_config(small_config(seeds=SEEDS))
    training = [wildcards for rule, wildcards in jobs if rule == "train_chunk"]
    assert len(training) == 1 and "group=softmax" in training[0]
    assert {rule for rule, _ in jobs} == {"train_chunk", "track_runs", "figures", "log_figures", "summary_report",
                                          "all"}


def test_an_unreachable_server_stops_the_pipeline_at_once(finished):
    started = time.monotonic()
    result = finished.run("--dry-run", check=False,
                          env=finished.environment(MLFLOW_TRACKING_URI="http://127.0.0.1:9"))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and time.monotonic() - started < 15
    assert "the MLflow server at http://127.0.0.1:9 does not answer" in output and "To train now" in output
    assert "rule train_chunk" not in output


def test_a_damaged_store_stops_the_pipeline_naming_the_file_and_the_fix(finished):
    damaged = finished.path("mlflow-cut.db")
    damaged.write_bytes(finished.path("mlflow.db").read_bytes()[:4096])
    result = finished.run("--dry-run", check=False,
                          env=finished.environment(MLFLOW_TRACKING_URI=f"sqlite:///{damaged}"))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and f"{damaged} is not a readable MLflow store" in output
    assert f"mv {damaged} {damaged}.damaged" in output and "rule train_chunk" not in output


def test_a_deleted_store_is_recorded_again_from_the_files_without_training(finished):
    records = {path: path.read_bytes() for path in finished.path("results").rglob("complete.json")}
    finished.path("mlflow.db").rename(finished.path("mlflow.db.old"))
    forget_stores()
    result = finished.run(TRACKED_RUNS)
    assert "holds no live record of it made by this project" in result.stderr
    manifests = [json.loads(path.read_text()) for path in finished.path("results/chunks").glob("*.json")]
    assert not [run["name"] for manifest in manifests for run in manifest["runs"] if run["trained"]]
    assert {path: path.read_bytes() for path in records} == records
    statuses = statuses_by_name(finished.tracking_uri, "nndl-small")
    assert statuses == {name: ["FINISHED"] for name in RUN_NAMES_ALL_SEEDS}
    epochs = {spec.name: spec.settings.epochs for spec in resolve_runs(validate(small_config(seeds=SEEDS), SCHEMA))}
    for name, run in runs_by_name(finished.tracking_uri, "nndl-small").items():
        assert metric_steps(finished.tracking_uri, run.info.run_id, "train/loss") == list(range(1, epochs[name] + 1))
    assert planned_jobs(finished, TRACKED_RUNS) == []


# Last: it leaves figures and report out of date on purpose.
def test_lost_or_damaged_run_files_retrain_that_run_only_with_identical_numbers(finished):
    """A deleted run folder and a history cut in half: a plain rerun (no --forcerun) plans their
    chunks where the workflow is parsed, retrains those two runs only, and each has one MLflow run."""
    deleted, damaged = finished.run_folder("softmax-scratch-seed0"), finished.run_folder("linreg-concise-seed1")
    before = {folder: {name: json.loads((folder / name).read_text()) for name in ("history.json", "metrics.json")}
              for folder in (deleted, damaged)}
    before_ids = {name: runs_by_name(finished.tracking_uri, "nndl-small")[name].info.run_id
                  for name in ("softmax-scratch-seed0", "linreg-concise-seed1")}
    shutil.rmtree(deleted)
    history = damaged / "history.json"
    history.write_bytes(history.read_bytes()[: history.stat().st_size // 2])
    result = finished.run("--until", "train_chunk")
    assert "a file is missing or not as its record (complete.json) says" in result.stderr
    assert f"{deleted.relative_to(finished.folder)}: its folder was deleted: that run is trained again" in result.stderr
    trained = [run for path in finished.path("results/chunks").glob("*.json")
               for run in json.loads(path.read_text())["runs"] if run["trained"]]
    assert sorted(run["name"] for run in trained) == ["linreg-concise-seed1", "softmax-scratch-seed0"], result.stdout
    statuses = statuses_by_name(finished.tracking_uri, "nndl-small")
    for name, old_id in before_ids.items():
        # The old record is replaced, not left beside the new one.
        assert statuses[name] == ["FINISHED"]
        assert runs_by_name(finished.tracking_uri, "nndl-small")[name].info.run_id != old_id
    for folder, files in before.items():
        after = {name: json.loads((folder / name).read_text()) for name in ("history.json", "metrics.json")}
        assert without_times(after["history.json"]) == without_times(files["history.json"])
        assert after["metrics.json"] == files["metrics.json"]
