"""A task entry missing a piece is a clear error where the config is validated or the workflow is
parsed, before any job: one test per omission (a setting's rule or default, a gate's bound, figure
kind, table kind, data kind, model module, book numbers), on the real schema and registry with one
piece taken out; and a real workflow stopping on a misspelt figure kind."""

import dataclasses
import re

import pytest
import yaml

from conftest import ROOT, SCHEMA, small_config
from nndl.config.tasks import data_kind_problems, registry_problems, task_problems
from nndl.config.validate import SCHEMA_PATH, validate
from nndl.errors import ConfigError
from nndl.runs.plan import planned_size, resolve_runs
from nndl.report import catalog as catalog_module
from nndl.report.catalog import TEMPLATES
from nndl.runs import names
from nndl.report.kinds import kind_problems
from nndl.report.tables import TABLES
from nndl.data.sources import FashionData, SyntheticData
from nndl.tasks.registry import DATA_KINDS, LINREG, MLP, TASKS
from nndl.settings import setting
from nndl.tasks.types import BookResult

REAL_SCHEMA = yaml.safe_load(SCHEMA.read_text())


def problems(task=MLP, schema=None) -> list[str]:
    return task_problems(task, schema or REAL_SCHEMA, SCHEMA_PATH, {**TASKS, task.name: task})


def test_the_registry_is_whole():
    assert registry_problems(REAL_SCHEMA, SCHEMA_PATH, TASKS) == []


def test_a_setting_declared_without_its_rule_or_default_is_named():
    """A settings field is its config key: declared without `setting(...)` (no rule to check a config
    by), or without a default from the field or the entry, it is named with the fix."""
    @dataclasses.dataclass(frozen=True)
    class Wider(MLP.settings):
        dropout1: float
        dropout2: float = setting("Dropout after the second hidden layer.", minimum=0, maximum=1)

    said = problems(dataclasses.replace(MLP, settings=Wider))
    assert said == [
        "task 'mlp': settings dropout1 of Wider are not declared with nndl.settings.setting(description, ...): "
        "the config's schema is made from it",
        "task 'mlp': no default for dropout1, dropout2: give it in the entry's `defaults` (the book's value)"]
    assert problems(dataclasses.replace(MLP, defaults={})) == [
        "task 'mlp': no default for batch_size, learning_rate, epochs, init_std: give it in the entry's `defaults` "
        "(the book's value)"]
    assert problems(dataclasses.replace(MLP, defaults={**MLP.defaults, "dropout1": 0.2})) == [
        "task 'mlp': defaults for dropout1, not settings of MLPSettings (batch_size, learning_rate, epochs, init_std, "
        "init, reduction, shuffle, formula, pixel_scale, num_hiddens, num_hiddens2)"]


def test_a_gate_bound_without_its_default_and_a_task_named_as_a_config_key_are_named():
    gates = (*MLP.gates, dataclasses.replace(MLP.gates[0], rule={"type": "number"}))
    assert problems(dataclasses.replace(MLP, gates=gates)) == [
        "task 'mlp': gate bound 'max_train_loss': declare it once, with its default (nndl.settings.gate_bound)"]
    for name in ("seeds", "synthetic"):
        assert problems(dataclasses.replace(MLP, name=name)) == [
            f"task '{name}': its name is a config key already (workflow/schemas/config.schema.yaml, or a data kind's "
            "block): name the task otherwise"]


def test_each_tasks_blocks_are_made_from_its_entry():
    """The validated config has each task's settings block with its keys and defaults, and its
    gates block with its bounds; a block may give some keys only, and a key a task does not have is
    refused, naming it."""
    config = validate({"mlp": {"epochs": 2}}, SCHEMA)
    for name, task in TASKS.items():
        assert set(config[name]) == set(task.settings.keys()), name
        assert set(config["gates"][name]) == {gate.bound for gate in task.gates}, name
    assert config["mlp"] == {**config["softmax"], "epochs": 2, "num_hiddens": 256, "num_hiddens2": 0}
    assert config["linreg"]["learning_rate"] == 0.03 and config["gates"]["linreg"] == {"max_param_error": 0.01}
    with pytest.raises(ConfigError, match="'dropout1' under mlp is not a known key"):
        validate({"mlp": {"dropout1": 0.2}}, SCHEMA)
    with pytest.raises(ConfigError, match="config key 'gates.mlp.min_test_accuracy'"):
        validate({"gates": {"mlp": {"min_test_accuracy": 2}}}, SCHEMA)


def test_a_misspelt_figure_or_table_kind_is_named_with_the_known_ones():
    task = dataclasses.replace(MLP, figures=("curves", "confusoin"), tables=("clasifier",))
    [figure] = kind_problems([task], "figure", lambda task: task.figures, TEMPLATES, "nndl.report.catalog.TEMPLATES")
    [table] = kind_problems([task], "table", lambda task: task.tables, TABLES, "nndl.report.tables.TABLES")
    assert figure.startswith("task 'mlp': figure kinds 'confusoin' do not exist: the kinds are ")
    assert "confusion" in figure and "nndl.report.catalog.TEMPLATES" in figure
    assert table.startswith("task 'mlp': table kinds 'clasifier' do not exist") and "classifier" in table


def test_an_unknown_data_kind_and_a_kind_missing_a_piece_are_refused():
    """A task's data is a kind registered in DATA_KINDS; a kind's settings block is in the schema
    file and its loading and identity functions are in modules that exist."""
    @dataclasses.dataclass(frozen=True)
    class Spirals(SyntheticData):
        kind = "spirals"
        block = "spirals"
        load = "nndl.data.spirals.load"

    [said] = problems(dataclasses.replace(LINREG, data=Spirals))
    assert said == (f"task 'linreg': data 'spirals' is not a kind of data set in nndl.tasks.registry."
                    f"DATA_KINDS ({', '.join(DATA_KINDS)})")
    assert data_kind_problems(REAL_SCHEMA, SCHEMA_PATH, {**DATA_KINDS, "spirals": Spirals}) == [
        "data kind 'spirals': its load function 'nndl.data.spirals.load' is not a function at the top level of a "
        "module found (a dotted path: module.function)"]

    @dataclasses.dataclass(frozen=True)
    class Undeclared(SyntheticData):
        kind, block, settings_type = "undeclared", "seeds", None

    assert data_kind_problems(REAL_SCHEMA, SCHEMA_PATH, {"undeclared": Undeclared}) == [
        "data kind 'undeclared': its block's name 'seeds' is a config key of workflow/schemas/config.schema.yaml or a "
        "task already: name it otherwise",
        "data kind 'undeclared': its settings block 'seeds' needs its settings_type, each field declared with "
        "nndl.settings.setting(description, ..., default=...) or given a default in the kind's `defaults`"]
    class Misspelt(SyntheticData):
        kind, block, defaults = "misspelt", "misspelt", {"noise_sd": 0.1}

    assert data_kind_problems(REAL_SCHEMA, SCHEMA_PATH, {"misspelt": Misspelt}) == [
        "data kind 'misspelt': defaults for noise_sd, not keys of SyntheticSettings"]
    assert data_kind_problems(REAL_SCHEMA, SCHEMA_PATH, {"synthetic": FashionData}) == [
        "data kind 'synthetic': its class says it is 'fashion_mnist'"]


def test_a_model_module_that_does_not_exist_is_named():
    [said] = problems(dataclasses.replace(MLP, model="nndl.learn.perceptron"))
    assert said.startswith("task 'mlp': model module 'nndl.learn.perceptron' is not found")


def test_a_metric_nothing_measures_is_named_with_the_known_ones():
    """A classifier has no test MSE, and a misspelt norm is no metric: each said before training
    (the evaluation computes what a task declares, nndl.tasks.finals.MEASURED)."""
    metrics = {**MLP.metrics, "final/test_mse": "min", "final/weight_nrom": "min"}
    assert problems(dataclasses.replace(MLP, metrics=metrics)) == [
        "task 'mlp': metrics final/test_mse, final/weight_nrom are measured by nothing for a classification: the "
        "known are final/test_loss, final/test_accuracy, final/weight_norm, final/train_loss, final/train_accuracy, "
        "train_seconds (nndl.tasks.finals)"]


def test_book_numbers_name_an_implementation_and_an_epochs_metrics():
    wrong = BookResult("numpy", "d2l 1.0.3", "somewhere", {"test/acc": 0.8})
    [said] = problems(dataclasses.replace(MLP, book=(*MLP.book, wrong)))
    assert said.startswith("task 'mlp': book result of d2l 1.0.3: impl 'numpy' is not one of scratch, concise; "
                           "metrics test/acc are neither an epoch's (test/accuracy, test/loss, train/accuracy, "
                           "train/loss) nor a final one it declares")


def test_no_cost_no_theory_and_an_unknown_baseline_are_each_named():
    found = problems(dataclasses.replace(MLP, seconds_per_example=0, baseline="perceptron", no_theory=""))
    assert [said.split(": ", 1)[1] for said in found] == [
        "seconds_per_example must be the measured cost of one example (> 0): chunks are cut by it",
        f"baseline 'perceptron' is not a task ({', '.join(TASKS)})",
        "no theory and no `no_theory`: say why chapter 3's predictions do not apply to it"]


def test_validating_a_config_stops_on_an_incomplete_registry_before_anything_else(monkeypatch):
    monkeypatch.setitem(TASKS, "mlp", dataclasses.replace(MLP, defaults={}))
    raw = yaml.safe_load((ROOT / "config" / "small.yaml").read_text())
    with pytest.raises(ConfigError, match=r"the task registry has errors:\n  task 'mlp': no default for batch_size"):
        validate(raw, SCHEMA)


def test_a_config_chooses_its_tasks_and_each_choice_is_whole():
    """`tasks:` (every task when left out) decides the default runs, in the registry's order however
    listed; a task set beside a baseline needs the baseline, a study its task, a name a task."""
    assert validate({}, SCHEMA)["tasks"] == list(TASKS)
    config = validate({"tasks": ["softmax", "linreg"]}, SCHEMA)
    assert [spec.name for spec in resolve_runs(config)] == [
        "linreg-scratch-seed0", "linreg-concise-seed0", "softmax-scratch-seed0", "softmax-concise-seed0"]
    assert planned_size(config)[0][:2] == ("default runs", 4)
    study = {"name": "width", "question": "How wide?", "task": "mlp", "vary": {"num_hiddens": [64, 256]}}
    for written, said in [({"tasks": ["mlp"]}, "tasks: 'mlp' is set beside 'softmax' in its report section: add "
                                                 "softmax to tasks"),
                          ({"tasks": ["softmax"], "studies": [study]}, "study 'width': its task 'mlp' is not in tasks "
                                                                         "(softmax): add it there"),
                          ({"tasks": ["softmx"]}, "config key 'tasks.0': 'softmx' is not one of ['linreg', 'softmax'")]:
        with pytest.raises(ConfigError, match=re.escape(said)):
            validate(written, SCHEMA)


@pytest.mark.e2e
def test_the_workflow_stops_on_a_misspelt_figure_kind_before_any_job(workflow):
    """The copy's registry lists 'confusoin': Snakemake stops where it parses, naming the task and
    the kinds, and makes nothing (the report would have met it after all the training)."""
    shared = workflow.path("src/nndl/tasks/shared.py")  # every classifier's figure kinds
    shared.write_text(shared.read_text().replace('"confusion")', '"confusoin")', 1))
    result = workflow.run(check=False)
    assert result.returncode != 0 and not workflow.path("results").exists()
    assert (f"task 'softmax': figure kinds 'confusoin' do not exist: the kinds are {', '.join(TEMPLATES)} "
            "(nndl.report.catalog.TEMPLATES)") in result.stderr


@pytest.mark.e2e
def test_a_config_trains_the_tasks_it_lists_and_one_added_trains_its_runs_only(workflow):
    """`tasks: [linreg]`: its runs, figures and report section only, no Fashion-MNIST acquired and
    no sample grid; listing softmax as well then trains softmax's runs and leaves linreg's as they were."""
    workflow.write_config(small_config(tasks=["linreg"]))
    workflow.run()
    linreg = workflow.records()
    assert set(linreg) == {"linreg-scratch-seed0", "linreg-concise-seed0"}
    assert not workflow.path("resources/fashion-mnist").exists()
    assert not workflow.path(f"{catalog_module.samples_stem()}.png").exists()
    html = workflow.path(names.SUMMARY_REPORT).read_text(encoding="utf-8")
    assert re.findall(r'<h2 id="([^"]+)"', html) == ["environment", "linreg", "mlflow-runs"]

    workflow.write_config(small_config(tasks=["softmax", "linreg"]))
    workflow.run()
    both = workflow.records()
    assert set(both) == set(linreg) | {"softmax-scratch-seed0", "softmax-concise-seed0"}
    assert {name: both[name] for name in linreg} == linreg  # not trained again
    html = workflow.path(names.SUMMARY_REPORT).read_text(encoding="utf-8")
    assert re.findall(r'<h2 id="([^"]+)"', html) == ["environment", "linreg", "samples", "softmax", "mlflow-runs"]
