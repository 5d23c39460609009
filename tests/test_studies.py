"""Studies: the settings they vary do what they say, bad study definitions stop before any job, a
study run is a normal run (same numbers), and its outcome is data. The pipeline's tracking,
summaries and report of studies: test_pipeline.py, on a copy of its finished project."""

import copy
import json
import math
import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml
from mlflow.tracking import MlflowClient
from torch import nn

from conftest import PROJECT, ROOT, SCHEMA, make_data, run_id, small_config, spec_for
from conftest import run_chunk as run
from nndl.config import validate as config
from nndl.data import synthetic
from nndl.data.stand_in import generate_stand_in
from nndl.data.tensors import Split, fashion_mnist_split
from nndl.errors import ConfigError, DivergenceError
from nndl.learn import scratch
from nndl.learn.learners import build_learner
from nndl.learn.loop import fit, train_epoch
from nndl.report import answers, matches, studies
from nndl.runs import names, specs
from nndl.runs import outcome as outcomes
from nndl.runs import record
from nndl.runs.grid import study_definition
from nndl.runs.plan import resolve_runs
from nndl.tasks.registry import TASKS
from nndl.tracking import studies as tracking_studies
from nndl.tracking import tags
from nndl import values

CPU = torch.device("cpu")


def linreg_split(n=200, seed=0):
    data = synthetic.make_dataset([2.0, -3.4], 4.2, n, 50, 0.01, seed)
    return Split(torch.from_numpy(data["X_train"]), torch.from_numpy(data["y_train"]))


# --- the settings ---------------------------------------------------------------------------------

def test_naive_softmax_overflows_where_the_stable_one_does_not():
    logits = torch.tensor([[100.0, 0.0, -5.0]])  # exp(100) overflows float32
    assert torch.isnan(scratch.naive_softmax(logits)).any()
    assert torch.allclose(scratch.softmax(logits).sum(), torch.tensor(1.0))
    assert not math.isfinite(scratch.naive_cross_entropy(logits, torch.tensor([1])).item())
    assert math.isfinite(scratch.cross_entropy(logits, torch.tensor([1])).item())
    small = torch.randn(8, 10)
    labels = torch.randint(0, 10, (8,))
    assert torch.allclose(scratch.naive_cross_entropy(small, labels), scratch.cross_entropy(small, labels), atol=1e-6)


def test_scratch_losses_match_torch():
    y_hat, y = torch.randn(64, 1) * 3, torch.randn(64, 1)
    assert torch.allclose(scratch.absolute_loss(y_hat, y), nn.L1Loss(reduction="none")(y_hat, y))
    for delta in (0.5, 1.0, 2.0):
        assert torch.allclose(scratch.huber_loss(y_hat, y, delta), nn.HuberLoss(reduction="none", delta=delta)(y_hat, y))


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_summed_loss_at_the_learning_rate_over_the_batch_size_is_the_mean_loss(impl):
    train = linreg_split()
    weights = {}
    for reduction, learning_rate in (("mean", 0.03), ("sum", 0.003)):
        generator = torch.Generator().manual_seed(0)
        spec = spec_for("linreg", impl, learning_rate=learning_rate, reduction=reduction)
        learner = build_learner(spec, generator, CPU)
        train_epoch(learner, train, 10, generator, classify=False)
        weights[reduction] = torch.cat([tensor.reshape(-1) for tensor in learner.weight_and_bias()])
    assert torch.allclose(weights["mean"], weights["sum"], atol=1e-6)


def test_without_shuffling_every_epoch_sees_the_same_minibatches():
    train = linreg_split()
    results = []
    for seed in (0, 1):
        generator = torch.Generator().manual_seed(seed)
        learner = build_learner(spec_for("linreg", init="zeros"), generator, CPU)
        assert not learner.weight_and_bias()[0].any()  # zeros: nothing drawn
        train_epoch(learner, train, 10, generator, classify=False, shuffle=False)
        results.append(learner.weight_and_bias()[0].clone())
    assert torch.equal(results[0], results[1])  # the generator no longer decides the order


def test_pixel_scale_gives_raw_or_unit_pixels(tmp_path):
    generate_stand_in(tmp_path, 100, 20, seed=0)
    unit = fashion_mnist_split(tmp_path, "train", CPU, "1/255")
    raw = fashion_mnist_split(tmp_path, "train", CPU, 1)
    assert unit.X.max() <= 1.0 and raw.X.max() > 1.0
    assert torch.allclose(raw.X / 255, unit.X)


def test_synthetic_noise_and_outliers():
    clean = synthetic.make_dataset([2.0, -3.4], 4.2, 1000, 200, 0.01, seed=0)
    corrupted = synthetic.make_dataset([2.0, -3.4], 4.2, 1000, 200, 0.01, seed=0, outliers=50, outlier_size=20.0)
    moved = (abs(corrupted["y_train"] - clean["y_train"]) > 1).sum()
    assert moved == 50 and (corrupted["X_test"] == clean["X_test"]).all()
    laplace = synthetic.make_dataset([2.0, -3.4], 4.2, 20000, 10, 0.5, seed=0, noise="laplace")
    residual = laplace["y_train"].reshape(-1) - laplace["X_train"] @ laplace["true_w"] - 4.2
    assert residual.std() == pytest.approx(0.5, rel=0.05)


def test_naive_softmax_on_raw_pixels_diverges_with_the_step_that_overflowed(tmp_path):
    generate_stand_in(tmp_path, 600, 100, seed=0)
    train, test = (fashion_mnist_split(tmp_path, split, CPU, 1) for split in ("train", "test"))
    generator = torch.Generator().manual_seed(0)
    learner = build_learner(spec_for("softmax", formula="naive"), generator, CPU)
    history = fit(learner, train, test, 64, 3, generator, classify=True)
    assert history["diverged"]["epoch"] == 1 and history["diverged"]["step"] >= 1


# --- study definitions ----------------------------------------------------------------------------

def study(**fields):
    return {"name": "lr", "question": "Which learning rate?", "task": "linreg", "vary": {"learning_rate": [0.03]},
            **fields}


@pytest.mark.parametrize("definition, expected", [
    (study(vary={"lerning_rate": [0.1]}), "study 'lr': vary.lerning_rate is not a setting"),
    (study(vary={"learning_rate": []}), "study 'lr': vary.learning_rate is empty"),
    (study(vary={"learning_rate": [0.1, "fast"]}), "study 'lr': vary.learning_rate[1] = 'fast'"),
    (study(vary={"batch_size": [1.5]}), "study 'lr': vary.batch_size[0] = 1.5: 1.5 is not of type 'integer'"),
    (study(vary={"pixel_scale": [1]}), "study 'lr': vary.pixel_scale does not apply to linreg: it is a "
     + ", ".join(name for name, task in TASKS.items() if "pixel_scale" in task.settings.keys()) + " setting"),
    (study(task="softmax", vary={"loss": ["huber"]}), "vary.loss does not apply to softmax: it is a "
     + ", ".join(name for name, task in TASKS.items() if "loss" in task.settings.keys()) + " setting"),
    (study(task="softmax", vary={"num_hiddens": [64]}), "vary.num_hiddens does not apply to softmax: it is a mlp setting"),
    (study(task="cnn"), "study 'lr': task 'cnn' is not a task; the tasks are linreg, softmax, mlp"),
    (study(set={"shuffle": "sometimes"}), "study 'lr': set.shuffle = 'sometimes'"),
    (study(metric="final/test_accuracy"), "metric 'final/test_accuracy' is not one of the linreg metrics"),
    (study(vary={}), "study 'lr' (studies[0]): key 'vary'"),
    (study(name="Bad Name"), "key 'name'"),
    (study(colour="red"), "key 'colour' is not a study key"),
])
def test_bad_study_definitions_name_the_study_and_key(definition, expected):
    with pytest.raises(ConfigError) as caught:
        config.validate({"studies": [definition]}, SCHEMA)
    assert expected in str(caught.value)


def test_two_studies_with_one_name_are_refused():
    with pytest.raises(ConfigError, match="the name is used by another study"):
        config.validate({"studies": [study(), study()]}, SCHEMA)


def test_a_study_is_its_grid_times_seeds_times_implementations():
    cfg = config.validate({"studies": [study(vary={"learning_rate": [0.1, 1.0], "n_train": [10, 100]},
                                             seeds=[0, 1], impls=["scratch"], set={"epochs": 5})]}, SCHEMA)
    runs = [spec for spec in resolve_runs(cfg) if spec.study]
    assert len(runs) == 8 and all(spec.settings.epochs == 5 for spec in runs)
    assert runs[0].name == "lr/linreg-scratch/learning_rate=0.1,n_train=10/seed0"
    assert runs[0].dir == ("results/studies/lr/runs/linreg-scratch/learning_rate=0.1,n_train=10/seed-0/"
                              f"{specs.training_key(runs[0])}")
    assert {spec.data.settings.n_train for spec in runs} == {10, 100}
    assert len({spec.data.path for spec in runs}) == 2  # a data set per n_train
    default = next(spec for spec in resolve_runs(cfg) if spec.name == "linreg-scratch-seed0")
    assert default.data.path != runs[0].data.path


# --- study runs, trained by chunks with a real MLflow store ----------------------------------------

def study_config(**definition):
    raw = small_config(seeds=[0])
    raw["studies"] = [definition]
    return raw


@pytest.mark.parametrize("task, varied", [("linreg", {"learning_rate": [0.03]}), ("softmax", {"batch_size": [64]})])
@pytest.mark.e2e
def test_a_study_run_equals_the_default_run_with_the_same_settings(project, task, varied):
    raw = study_config(name="same", question="Same numbers?", task=task, vary=varied, seeds=[0])
    make_data(raw)
    runs = resolve_runs(config.validate(raw, SCHEMA))
    default = [spec for spec in runs if spec.task == task and spec.study is None]
    studied = [spec for spec in runs if spec.study]
    run(default, "default.json")
    run(studied, "study.json")
    for plain, other in zip(default, studied):
        a = json.loads((project / plain.dir / names.METRICS).read_text())["summary"]
        b = json.loads((project / other.dir / names.METRICS).read_text())["summary"]
        assert a.keys() == b.keys()
        for key in a:
            assert b[key] == pytest.approx(a[key], abs=1e-6), key
    # Every final metric the task declares is in MLflow, as the run's files have it (a classifier's
    # final training loss and accuracy are its last epoch's).
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    for spec in default + studied:
        logged = client.get_run(run_id(spec)).data.metrics
        history = json.loads((project / spec.dir / names.HISTORY).read_text())
        assert set(TASKS[task].metrics) <= set(logged), spec.name
        if TASKS[task].classify:
            assert logged["final/train_accuracy"] == history["epochs"][-1]["train/accuracy"]
            assert logged["final/train_loss"] == pytest.approx(history["epochs"][-1]["train/loss"], rel=1e-12)


@pytest.mark.e2e
def test_a_study_run_that_trained_ends_finished_with_its_outcome_and_a_default_run_fails(project):
    """A study run that diverged or missed its gates trained: it ends FINISHED, its outcome in its
    `outcome` tag and record (FAILED is for a run that could not run). A default run that does
    ends FAILED and stops its job."""
    raw = study_config(name="lr", question="Which learning rate?", task="linreg", impls=["scratch"],
                       vary={"learning_rate": [0.03, 30.0, 0.0001]}, seeds=[0])
    make_data(raw)
    runs = [spec for spec in resolve_runs(config.validate(raw, SCHEMA)) if spec.study]
    first = run(runs)
    parents = first["study_parents"]
    markers = [record.read(spec.dir) for spec in runs]
    assert [marker.outcome and marker.outcome.kind for marker in markers] == [None, outcomes.DIVERGED,
                                                                             outcomes.MISSED_GATES]
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    ok, diverged, missed = (client.get_run(run_id(spec)) for spec in runs)
    assert [item.info.status for item in (ok, diverged, missed)] == ["FINISHED"] * 3
    assert [marker.status for marker in markers] == ["FINISHED"] * 3
    assert ok.data.tags["outcome"] == "ok"
    assert diverged.data.tags["outcome"].startswith("diverged at epoch 1, step ")
    assert missed.data.tags["outcome"].startswith("missed its gates: max |w error| = ")
    for mlflow_run, marker in zip((ok, diverged, missed), markers):
        assert mlflow_run.data.tags["mlflow.parentRunId"] == parents["lr"]
        assert mlflow_run.data.params["learning_rate"] in ("0.03", "30.0", "0.0001")
        assert mlflow_run.data.tags["mlflow.source.name"] == "tests"
        assert mlflow_run.data.tags["mlflow.note.content"].startswith("Study lr: learning_rate=")
        # The data set it trained on and its test split (their contexts: test_names.py).
        training, testing = sorted((item.dataset for item in mlflow_run.inputs.dataset_inputs), key=lambda d: d.name)
        assert training.name.startswith("synthetic-linreg-") and len(training.digest) == 16
        assert testing.name == f"{training.name}-test" and len(testing.digest) == 16
        assert mlflow_run.data.tags["outcome"] == (marker.outcome.message if marker.outcome else "ok")
    # A study run recorded FAILED by the earlier rule (a finding ended FAILED) is set FINISHED by the
    # next job, in its record and in MLflow, without training.
    record.write(replace(markers[1], status="FAILED"), runs[1].dir)
    client.set_terminated(diverged.info.run_id, status="FAILED")
    again = run(runs)
    assert [row["trained"] for row in again["runs"]] == [False, False, False]  # a finding is complete
    assert client.get_run(diverged.info.run_id).info.status == "FINISHED"
    assert record.read(runs[1].dir).status == "FINISHED"

    default = copy.deepcopy(raw)
    default["linreg"]["learning_rate"] = 30.0
    plain = [spec for spec in resolve_runs(config.validate(default, SCHEMA)) if spec.task == "linreg"
             and spec.study is None]
    with pytest.raises(DivergenceError, match="linreg-scratch-seed0 diverged at epoch 1"):
        run(plain, "default.json")
    failed = client.search_runs([client.get_experiment_by_name("chunks").experiment_id],
                                "attributes.run_name = 'linreg-scratch-seed0'")
    assert [(item.info.status, item.data.tags["outcome"][:8]) for item in failed] == [("FAILED", "diverged")]


@pytest.mark.e2e
def test_a_study_has_one_parent_run_whoever_asks(project):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    first = tracking_studies.study_parent(uri, "chunks", "lr", "tests", PROJECT)
    assert tracking_studies.study_parent(uri, "chunks", "lr", "tests", PROJECT) == first
    client = MlflowClient(tracking_uri=uri)
    # A job on another host (no shared lock) created one too, later: everyone keeps the oldest.
    experiment_id = client.get_experiment_by_name("chunks").experiment_id
    client.create_run(experiment_id, run_name="study: lr", tags={tags.STUDY_TAG: "lr", tags.ROLE_TAG: "study",
                                                                 tags.PROJECT_TAG: PROJECT})
    assert tracking_studies.study_parent(uri, "chunks", "lr", "tests", PROJECT) == first
    assert client.get_run(first).info.status == "RUNNING"  # until the study is summarised
    assert tracking_studies.study_parent(uri, "chunks", "other", "tests", PROJECT) != first
    # A teammate's project has a parent of its own, and leaves this one alone.
    theirs = tracking_studies.study_parent(uri, "chunks", "lr", "tests", "p-teammate")
    assert theirs != first and tracking_studies.study_parent(uri, "chunks", "lr", "tests", PROJECT) == first


def test_the_answer_is_computed_from_the_numbers():
    definition = study_definition(config.validate({"studies": [study(
        vary={"learning_rate": [0.01, 0.1, 1.0, 3.0]}, impls=["scratch"], seeds=[0, 1])]}, SCHEMA)["studies"][0])
    rows = []
    for lr, value in ((0.01, 0.5), (0.1, 0.1), (1.0, None), (3.0, None)):
        for seed in (0, 1):
            outcome = None if value is not None else "diverged at epoch 1, step 4 (minibatch loss inf)"
            rows.append({"impl": "scratch", "seed": seed, "point": {"learning_rate": lr}, "outcome": outcome,
                         "kind": outcomes.OK if outcome is None else outcomes.DIVERGED, "value": None if value is None else value + seed / 100,
                         "train_loss": [1.0, 0.5], "test_metric": [1.0, 0.5]})
    answer = studies.summarise(definition, rows)["answer"]
    assert answer.startswith("learning_rate >= 1.0 diverged in 4 of 4 runs")
    assert "the lowest final/test_mse was 0.105 ± 0.0071 at learning_rate=0.1 (mean ± std over 2 seeds)" in answer


def check_answer(summary: dict) -> None:
    """The answer states facts computed from the study's own rows: a value of a run that trained is
    in it, with the metric's name, or else it counts the runs that diverged."""
    study, answer = summary["study"], summary["answer"]
    values = [row["value"] for row in summary["runs"] if row["value"] is not None]
    diverged = [row for row in summary["runs"] if row["kind"] == outcomes.DIVERGED]
    assert isinstance(answer, str) and answer.strip(), study["name"]
    if values:
        assert study["metric"] in answer, (study["name"], answer)
        assert any(answers.value_text(value) in answer for value in values) or "±" in answer, answer
    if diverged:
        assert f"diverged in {len(diverged)}" in answer or "diverged" in answer, answer


@pytest.mark.e2e
def test_the_exercises_run_as_small_stand_ins(project, tmp_path):
    """Every study of config/exercises.yaml, shrunk (two values per setting, one seed, two epochs) on
    the small config's data: it resolves, trains, and gets a summary with an answer and figures."""
    exercises = yaml.safe_load((ROOT / "config" / "exercises.yaml").read_text())
    raw = small_config(seeds=[0])
    raw["studies"] = []
    for definition in exercises["studies"]:
        small = {**definition, "seeds": [0], "vary": {key: values[:2] for key, values in definition["vary"].items()}}
        if "epochs" in small["vary"]:
            small["vary"]["epochs"] = [2]
        else:
            small["set"] = {**definition.get("set", {}), "epochs": 2}
        raw["studies"].append(small)
    make_data(raw)
    cfg = config.validate(raw, SCHEMA)
    runs = resolve_runs(cfg)
    summaries = {}
    for definition in cfg["studies"]:
        study_specs = [spec for spec in runs if spec.study and spec.study.name == definition["name"]]
        run(study_specs, f"{definition['name']}.json")
        parent = studies.recorded_parent(definition["name"], [f"{definition['name']}.json"])
        summaries[definition["name"]] = studies.summarise_study(study_definition(definition), study_specs, parent,
                                                                ["png"], tmp_path / f"{definition['name']}.csv", PROJECT)
    assert set(summaries) == {definition["name"] for definition in cfg["studies"]}
    for name, summary in summaries.items():
        json.dumps(summary)  # plain data
        assert len(summary["runs"]) == len([spec for spec in runs if spec.study and spec.study.name == name])
        assert summary["figures"] and all(Path(path).is_file() for paths in summary["figures"].values()
                                          for path in paths), name
        check_answer(summary)
        theory = summary["theory"]
        assert {"prediction", "predicted", "measured", "verdict", "rule"} <= set(theory), name
        assert theory["verdict"] in ("agrees", "disagrees", "inconclusive") and theory["rule"], name
        # Every exercise of chapter 3 has a theory; the next chapter's perceptron says plainly it has none.
        expected = TASKS[summary["study"]["task"]].no_theory or "a prediction"
        assert theory["prediction"].startswith("No prediction") == (expected != "a prediction"), name
        assert expected == "a prediction" or expected in theory["prediction"], name


# --- the pipeline --------------------------------------------------------------------------------


# --- a large grid: the report summarises it -------------------------------------------------------

def grid_rows(vary: dict, impls=("scratch",), seeds=(0, 1), value=None) -> tuple[dict, list[dict]]:
    """A study definition and its rows as read back (no training): `value(point, impl, seed)` gives
    a run's final metric, None for a diverged run; by default a loss falling with the learning rate."""
    study = {"name": "dense", "question": "?", "task": "linreg", "impls": list(impls), "vary": vary, "set": {},
             "seeds": list(seeds), "metric": "final/train_loss"}
    value = value or (lambda point, impl, seed: None if point["learning_rate"] > 1.5 else
                      1 / (1 + point["learning_rate"]) + seed / 1000 + (impl == "concise") / 10_000)
    rows = []
    for point in grid_points(study):
        for seed in seeds:
            for impl in impls:
                final = value(point, impl, seed)
                rows.append({"impl": impl, "seed": seed, "point": point, "value": final,
                             "kind": outcomes.OK if final is not None else outcomes.DIVERGED,
                             "outcome": None if final is not None else "diverged at epoch 1, step 3",
                             "train_loss": [] if final is None else [1.0, final],
                             "test_metric": [] if final is None else [1.0, final]})
    return study, rows


def grid_points(study: dict) -> list[dict]:
    from nndl.runs.grid import grid
    return grid(study)


def dense_rates(count: int) -> list[float]:
    return [round(0.001 * 1.0055 ** index, 9) for index in range(count)]


def test_a_large_grid_shows_chosen_points_and_writes_every_row(tmp_path, monkeypatch):
    from PIL import Image

    from nndl.report import plots, study_plots, study_points
    monkeypatch.chdir(tmp_path)
    study, rows = grid_rows({"learning_rate": dense_rates(1500)}, impls=("scratch", "concise"))
    groups = studies.summarise(study, rows)["groups"]
    chosen = study_points.chosen(study, groups)
    assert len(groups) == 3000 and 2 <= len(chosen) <= 8
    assert {"best", "worst", "first", "last", "first to diverge"} <= {why for reasons in chosen.values() for why in reasons}
    figure = study_plots.study_curves(study, groups, "test/mse", chosen)
    # A legend per implementation (the top row), an entry per chosen point that has curves: not the
    # two that diverged in every seed (the first to diverge, the last).
    drawn = [label for label, reasons in chosen.items() if not {"last", "first to diverge"} & set(reasons)]
    assert len(drawn) == len(chosen) - 2
    assert [[text.get_text().split(" ")[0] for text in axes.get_legend().get_texts()] for axes in figure.axes[:2]] == [
        drawn, drawn]
    [png] = plots.save(figure, tmp_path / "curves", ["png"])
    assert Image.open(png).size[1] <= 4000
    table = studies.table_block(study, groups, chosen, tmp_path / "table.csv")
    assert table["count"] == 3000 and len(table["rows"]) == 2 * len(chosen) and table["headers"][-1] == "shown as"
    lines = Path(table["csv"]).read_text().splitlines()
    assert len(lines) == 1 + 3000 and lines[0].startswith("learning_rate,impl,seeds,diverged")
    assert "learning_rate: 1,500 values from 0.001 to " in values.varied_text(study["vary"])
    assert len(studies.summarise(study, rows)["answer"]) < 2000  # 500 diverging points are counted, not listed


def test_a_small_grid_is_shown_whole(tmp_path, monkeypatch):
    from nndl.report import study_plots
    monkeypatch.chdir(tmp_path)
    study, rows = grid_rows({"learning_rate": [0.01, 0.1, 1.0, 3.0]})
    groups = studies.summarise(study, rows)["groups"]
    assert not answers.large_grid(study)
    figure = study_plots.study_curves(study, groups, "test/mse")
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == [
        "learning_rate=0.01", "learning_rate=0.1", "learning_rate=1.0"]  # 3.0 diverged
    table = studies.table_block(study, groups, None, tmp_path / "table.csv")
    assert table["rows"] == studies.table(study, groups)[1] and table["count"] == 4
    assert values.varied_text(study["vary"]) == "learning_rate in [0.01, 0.1, 1.0, 3.0]"


def matching_value(point: dict, impl: str, seed: int) -> float:
    """Distinct values but for three pairs: (lr 3, batch 10) and (lr 3, batch 20) differ in batch size
    only; (lr 5, batch 10) and (lr 7, batch 20) in both settings; lr 9 of both implementations."""
    index, batch = int(point["learning_rate"]), point["batch_size"]
    if index == 3:
        return 0.5 + (impl == "concise") / 7 + seed
    if (index, batch) in ((5, 10), (7, 20)):
        return 0.6 + (impl == "concise") / 7 + seed
    if index == 9:
        return 0.9 + batch + seed
    return index + batch / 1000 + (impl == "concise") / 7 + seed + 1


def test_a_large_grid_matches_points_that_differ_in_one_setting(monkeypatch):
    study, rows = grid_rows({"learning_rate": [float(index) for index in range(20)], "batch_size": [10, 20]},
                            impls=("scratch", "concise"), value=matching_value)
    groups = studies.summarise(study, rows)["groups"]
    compared = []
    same = matches.same_runs
    monkeypatch.setattr(matches, "same_runs", lambda a, b: compared.append(1) or same(a, b))
    clauses = answers._matches(study, [group for group in groups if not math.isnan(group["mean"])], [])
    assert answers.large_grid(study) and len(compared) <= 2 * len(groups)  # not every pair (80 * 79 / 2)
    assert clauses[0].startswith("learning_rate=3.0,batch_size=10 (scratch) matched learning_rate=3.0,batch_size=20 "
                                 "(scratch) in every seed")
    assert any("learning_rate=9.0,batch_size=10 (scratch) matched learning_rate=9.0,batch_size=10 (concise)" in clause
               for clause in clauses)
    assert not any("learning_rate=5.0" in clause for clause in clauses)  # two settings apart


def test_a_small_grid_matches_points_whatever_they_differ_in():
    # summed-loss's answer: the mean loss at 0.03 is the summed loss at 0.003 (both settings change).
    study, rows = grid_rows({"learning_rate": [5.0, 7.0], "batch_size": [10, 20]}, value=matching_value)
    answer = studies.summarise(study, rows)["answer"]
    # The pair is the best too: said once, as a tie in every seed (not a best picked among equals).
    assert ("the lowest final/train_loss was 1.1, the same in every seed at learning_rate=5.0,batch_size=10 and "
            "learning_rate=7.0,batch_size=20 (mean over 2 seeds)") in answer
    assert "matched" not in answer
    clauses = answers._matches(study, studies.summarise(study, rows)["groups"], [])
    assert clauses == ["learning_rate=5.0,batch_size=10 matched learning_rate=7.0,batch_size=20 in every seed "
                       "(both 1.1 on average)"]


def accuracy_rows(vary: dict, value, seeds=(0,), epochs=None) -> tuple[dict, list[dict]]:
    """A softmax study of final/test_accuracy and its rows as read back (no training): `value(point,
    seed)` a run's final accuracy; a run below 0.7 missed its gates. `epochs(point)`: its per-epoch
    test accuracy (default: two epochs ending at its value)."""
    study = {"name": "tied", "question": "?", "task": "softmax", "impls": ["scratch"], "vary": vary, "set": {},
             "seeds": list(seeds), "metric": "final/test_accuracy"}
    rows = []
    for point in grid_points(study):
        for seed in seeds:
            final = value(point, seed)
            missed = "missed its gates: test/accuracy = 0.5, gate > 0.7 (off by 0.2)"
            rows.append({"impl": "scratch", "seed": seed, "point": point, "value": final,
                         "kind": outcomes.OK if final > 0.7 else outcomes.MISSED_GATES,
                         "outcome": None if final > 0.7 else missed, "train_loss": [1.0, 0.5],
                         "test_metric": epochs(point) if epochs else [0.5, final]})
    return study, rows


def test_a_tie_is_said_as_a_tie():
    # The study: every learning rate gave test accuracy 1 (the stand-in is easy).
    study, rows = accuracy_rows({"learning_rate": [0.03, 0.1, 1.0]}, lambda point, seed: 1.0)
    answer = studies.summarise(study, rows)["answer"]
    assert answer == ("all 3 grid points tied at final/test_accuracy 1: learning_rate=0.03, learning_rate=0.1 and "
                      "learning_rate=1.0.")
    # Two of three tied at the best: both named, neither picked; no clause sets 1 beside 1.
    study, rows = accuracy_rows({"learning_rate": [0.03, 0.1, 1.0]},
                                lambda point, seed: 0.5 if point["learning_rate"] == 0.03 else 1.0)
    answer = studies.summarise(study, rows)["answer"]
    assert answer.startswith("the highest final/test_accuracy was 1, tied at learning_rate=0.1 and learning_rate=1.0; "
                             "the lowest was 0.5 at learning_rate=0.03; finished but missed the gates: "
                             "learning_rate=0.03 (1 of 1)")
    assert "matched" not in answer and "1 vs 1" not in answer
    # Over seeds: a tie of means whose seeds differ is a tie; one whose every seed agrees says so.
    study, rows = accuracy_rows({"learning_rate": [0.1, 1.0]}, lambda point, seed: 0.8 + seed / 10, seeds=(0, 1))
    assert studies.summarise(study, rows)["answer"] == ("both grid points gave final/test_accuracy 0.85 in every "
                                                        "seed: learning_rate=0.1 and learning_rate=1.0.")
    study, rows = accuracy_rows({"learning_rate": [0.1, 1.0]}, seeds=(0, 1), value=lambda point, seed: 0.8 + (
        seed if point["learning_rate"] == 1.0 else 1 - seed) / 10)
    assert studies.summarise(study, rows)["answer"] == ("both grid points tied at final/test_accuracy 0.85 (mean over 2 "
                                                        "seeds): learning_rate=0.1 and learning_rate=1.0.")


def test_close_values_are_neither_both_ends_nor_printed_alike():
    # A tie does not chain (0.9 ~ 0.9000054 ~ 0.9000108, yet 0.9 and 0.9000108 differ): each grid
    # point is at one end only.
    means = {0.03: 0.9, 0.1: 0.9000054, 1.0: 0.9000108}
    study, rows = accuracy_rows({"learning_rate": list(means)}, lambda point, seed: means[point["learning_rate"]])
    answer = studies.summarise(study, rows)["answer"]
    assert answer == ("the highest final/test_accuracy was 0.90001, tied at learning_rate=1.0 and learning_rate=0.1; "
                      "the lowest was 0.9 at learning_rate=0.03.")
    # One training example of 60,000 apart is not a tie, and is not printed as one (both 0.8477 at 4 digits).
    accuracies = {0.03: 50_861 / 60_000, 0.1: 50_860 / 60_000}
    study, rows = accuracy_rows({"learning_rate": list(accuracies)}, lambda point, seed: accuracies[point["learning_rate"]])
    assert studies.summarise(study, rows)["answer"].startswith(
        "the highest final/test_accuracy was 0.84768 at learning_rate=0.03; the lowest was 0.84767 at learning_rate=0.1.")


def test_a_tie_among_the_other_settings_and_a_plateau_are_said_as_such():
    study, rows = accuracy_rows({"learning_rate": [0.1, 1.0], "batch_size": [64, 256]},
                                lambda point, seed: 0.8 if point["learning_rate"] == 0.1 else 0.9 - point["batch_size"] / 10_000)
    answer = studies.summarise(study, rows)["answer"]
    assert ("best final/test_accuracy for each learning_rate: learning_rate=0.1: batch_size=64 and batch_size=256 "
            "(0.8, tied); learning_rate=1.0: batch_size=64 (0.8936)") in answer
    # The test accuracy reached 1 at epoch 2 and stayed there: a plateau, not a peak with a fall after it.
    study, rows = accuracy_rows({"epochs": [3]}, lambda point, seed: 1.0, epochs=lambda point: [0.9, 1.0, 1.0])
    answer = studies.summarise(study, rows)["answer"]
    assert answer.endswith("at epochs=3, mean test/accuracy reached its best, 1, at epoch 2 and kept it to epoch 3.")
    study, rows = accuracy_rows({"epochs": [3]}, lambda point, seed: 0.9, epochs=lambda point: [0.8, 0.95, 0.9])
    assert studies.summarise(study, rows)["answer"].endswith("was best at epoch 2 (0.95) and 0.9 at epoch 3.")


def test_a_large_grid_keeps_the_parent_tags_json_and_within_mlflow_limit():
    from mlflow.utils.validation import MAX_TAG_VAL_LENGTH
    rates = dense_rates(1500)
    assert len(json.dumps(rates)) > MAX_TAG_VAL_LENGTH
    study = {"task": "linreg", "metric": "final/train_loss", "vary": {"learning_rate": rates, "init": ["normal"]},
             "set": {"epochs": 1, "true_w": [0.5] * 2000}}
    found = tracking_studies.study_tags(study, "a long answer; " * 2000)
    assert all(len(value) <= MAX_TAG_VAL_LENGTH for value in found.values())
    assert json.loads(found["study.vary.learning_rate"]) == {"count": 1500, "min": 0.001, "max": max(rates)}
    assert json.loads(found["study.vary.init"]) == ["normal"] and found["study.set.epochs"] == "1"
    assert json.loads(found["study.set.true_w"])["count"] == 2000
    assert found[tags.DESCRIPTION_TAG].endswith("…")
    assert tracking_studies.study_tags({**study, "vary": {"learning_rate": [0.03, 30.0]}}, "")[
        "study.vary.learning_rate"] == "[0.03, 30.0]"
