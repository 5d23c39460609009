"""A task entry missing a piece is a clear error where the config is validated or the workflow is
parsed, before any job: one test per omission (settings block, gates block, figure kind, table
kind, data kind, model module, book numbers), on the real schema and registry with one piece taken
out; and a real workflow stopping on a misspelt figure kind."""

import copy
import dataclasses

import pytest
import yaml

from conftest import ROOT, SCHEMA
from nndl.config.tasks import registry_problems, task_problems
from nndl.config.validate import SCHEMA_PATH, validate
from nndl.errors import ConfigError
from nndl.report.catalog import TEMPLATES
from nndl.report.kinds import kind_problems
from nndl.report.tables import TABLES
from nndl.tasks.registry import MLP, TASKS
from nndl.tasks.types import BookResult

REAL_SCHEMA = yaml.safe_load(SCHEMA.read_text())


def problems(task=MLP, schema=None) -> list[str]:
    return task_problems(task, schema or REAL_SCHEMA, SCHEMA_PATH, {**TASKS, task.name: task})


def without(*path: str) -> dict:
    """The real schema with the node at `path` (under properties) taken out."""
    schema = copy.deepcopy(REAL_SCHEMA)
    node = schema
    for key in path[:-1]:
        node = node["properties"][key]
    del node["properties"][path[-1]]
    return schema


def test_the_registry_is_whole():
    assert registry_problems(REAL_SCHEMA, SCHEMA_PATH, TASKS) == []


def test_a_task_without_its_settings_block_is_named_with_its_keys():
    [said] = problems(schema=without("mlp"))
    assert said.startswith("task 'mlp': no settings block 'mlp' in workflow/schemas/config.schema.yaml")
    assert "num_hiddens, num_hiddens2" in said


def test_settings_declared_in_one_place_only_are_named():
    @dataclasses.dataclass(frozen=True)
    class Wider(MLP.settings):
        dropout1: float

    [said] = problems(dataclasses.replace(MLP, settings=Wider))
    assert said == ("task 'mlp': its settings block in workflow/schemas/config.schema.yaml and Wider differ: "
                    "not in the schema: dropout1")
    schema = copy.deepcopy(REAL_SCHEMA)
    schema["$defs"]["mlp_hyperparameters"]["properties"]["dropout2"] = {"type": "number"}
    [said] = problems(schema=schema)
    assert said.endswith("and MLPSettings differ: not in MLPSettings: dropout2")


def test_a_task_without_its_gates_block_is_named_with_its_bounds():
    [said] = problems(schema=without("gates", "mlp"))
    assert said == ("task 'mlp': no gates block 'gates: mlp' in workflow/schemas/config.schema.yaml: add one with "
                    "max_train_loss, min_test_accuracy, min_train_accuracy")


def test_a_misspelt_figure_or_table_kind_is_named_with_the_known_ones():
    task = dataclasses.replace(MLP, figures=("curves", "confusoin"), tables=("clasifier",))
    [figure] = kind_problems([task], "figure", lambda task: task.figures, TEMPLATES, "nndl.report.catalog.TEMPLATES")
    [table] = kind_problems([task], "table", lambda task: task.tables, TABLES, "nndl.report.tables.TABLES")
    assert figure.startswith("task 'mlp': figure kinds 'confusoin' do not exist: the kinds are ")
    assert "confusion" in figure and "nndl.report.catalog.TEMPLATES" in figure
    assert table.startswith("task 'mlp': table kinds 'clasifier' do not exist") and "classifier" in table


def test_an_unknown_data_kind_is_refused():
    [said] = problems(dataclasses.replace(MLP, data="weight_decay"))
    assert said == ("task 'mlp': data 'weight_decay' is not a kind of data set (synthetic, fashion_mnist; "
                    "nndl.data.sources)")


def test_a_model_module_that_does_not_exist_is_named():
    [said] = problems(dataclasses.replace(MLP, model="nndl.learn.dropout"))
    assert said.startswith("task 'mlp': model module 'nndl.learn.dropout' is not found")


def test_book_numbers_name_an_implementation_and_an_epochs_metrics():
    wrong = BookResult("numpy", "d2l 1.0.3", "somewhere", {"test/acc": 0.8})
    [said] = problems(dataclasses.replace(MLP, book=(*MLP.book, wrong)))
    assert said.startswith("task 'mlp': book result of d2l 1.0.3: impl 'numpy' is not one of scratch, concise; "
                           "metrics test/acc are not an epoch's")


def test_no_cost_no_theory_and_an_unknown_baseline_are_each_named():
    found = problems(dataclasses.replace(MLP, seconds_per_example=0, baseline="perceptron", no_theory=""))
    assert [said.split(": ", 1)[1] for said in found] == [
        "seconds_per_example must be the measured cost of one example (> 0): chunks are cut by it",
        "baseline 'perceptron' is not a task (linreg, softmax, mlp)",
        "no theory and no `no_theory`: say why chapter 3's predictions do not apply to it"]


def test_validating_a_config_stops_on_an_incomplete_registry_before_anything_else(tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(without("gates", "softmax")))
    raw = yaml.safe_load((ROOT / "config" / "small.yaml").read_text())
    with pytest.raises(ConfigError, match=r"the task registry has errors:\n  task 'softmax': no gates block"):
        validate(raw, schema)


@pytest.mark.e2e
def test_the_workflow_stops_on_a_misspelt_figure_kind_before_any_job(workflow):
    """The copy's registry lists 'confusoin': Snakemake stops where it parses, naming the task and
    the kinds, and makes nothing (the report would have met it after all the training)."""
    registry = workflow.path("src/nndl/tasks/registry.py")
    registry.write_text(registry.read_text().replace('"confusion")', '"confusoin")', 1))
    result = workflow.run(check=False)
    assert result.returncode != 0 and not workflow.path("results").exists()
    assert ("task 'softmax': figure kinds 'confusoin' do not exist: the kinds are linreg_loss, linreg_trajectory, "
            "curves, comparison, predictions, confusion (nndl.report.catalog.TEMPLATES)") in result.stderr
