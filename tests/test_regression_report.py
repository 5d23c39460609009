"""Every regression of the registry, trained for real on its own data (a few epochs), gets its
report section: each table kind and figure kind its entry lists is made from its runs, the book's
numbers (printed norms, learned coefficients) set beside its own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from matplotlib import pyplot as plt

from conftest import trained_runs
from nndl.report import catalog, figures, tables
from nndl.report.table_text import number_text
from nndl.tasks.registry import TASKS

REGRESSIONS = [task for task in TASKS.values() if not task.classify]


@pytest.mark.parametrize("task", REGRESSIONS, ids=[task.name for task in REGRESSIONS])
def test_each_regression_gets_its_tables_and_figures_from_its_runs(task, tmp_path):
    runs = trained_runs(task, tmp_path, epochs=3)
    made = tables.task_tables(task, runs)
    assert len(made) == len([kind for kind in task.tables if kind != "book" or task.book])
    assert all("|---|" in table for table in made)
    for result in task.book:  # the book's number, then this run's, in its row
        book = next(table for table in made if result.source in table)
        row = next(line for line in book.splitlines() if f"| {result.edition} | {result.impl} |" in line)
        assert all(f"{number_text(value)} / " in row for value in result.metrics.values())
    intro = tables.section_intro(task, runs)
    assert task.about in intro and "Batch size" in intro
    seed_runs = SimpleNamespace(specs={learner: run["record"].spec for learner, run in runs.items()},
                                histories={learner: run["history"] for learner, run in runs.items()})
    for figure in catalog.task_figures(task):
        if figure.kind != "linreg_trajectory":  # drawn from the recorded steps: linear regression's own test
            drawn = figures.DRAW[figure.kind](seed_runs, figure)
            assert drawn.axes
            plt.close(drawn)


def test_the_weights_table_lists_each_coefficient_beside_the_truth_and_least_squares(tmp_path):
    task = TASKS["model_selection"]
    table = tables.TABLES["weights"](task, trained_runs(task, tmp_path, epochs=3))
    rows = [line.split(" | ")[0].strip("| ") for line in table.splitlines() if line.startswith("| ") and "true" not in line]
    assert rows == ["b", "w1", "w2", "w3"]
    assert "| w2 | -3.4000 |" in table  # the truth


def test_each_generated_kind_is_named_for_itself_in_mlflow(tmp_path):
    """MLflow's Dataset column names each kind's data for its kind (not every generated set
    'synthetic-linreg'): one name per kind, the synthetic data's as it always was."""
    from nndl.data.tensors import dataset_identity

    named = {}
    for task in REGRESSIONS:
        spec = next(iter(trained_runs(task, tmp_path, epochs=1).values()))["record"].spec
        named[task.data.kind] = dataset_identity(spec.data)["name"].removesuffix(f"-{spec.data.digest}")
    assert named["synthetic"] == "synthetic-linreg" and len(set(named.values())) == len(named)
