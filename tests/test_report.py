"""The reports read cleanly: every epoch axis ticks whole epochs, a log-spaced grid is drawn on a log
axis, a confusion matrix's counts fill their cells, a table's number without spread shows the same
digits as one with it, the summary's contents link its sections, Snakemake's report gets an intro
naming every task and params that print as what they are, and a report's kernel prints no warning.
(Snakemake's report of a real project, its panels and links: tests/test_pipeline.py.)"""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import ROOT
from nndl.data import naming
from nndl.data.sources import FashionData
from nndl.report import catalog, contents, plots, study_plots, table_text, tables
from nndl.report.rule_params import described, run_specs
from nndl.tasks.registry import TASKS
from snakemake_report import warning_lines

EPOCHS = (1, 2, 3)  # three epochs: matplotlib's own ticks would be 1.00, 1.25, ... 3.00


def history(classify: bool = True) -> dict:
    scores = {"train/accuracy": 0.8, "test/loss": 0.6, "test/accuracy": 0.75} if classify else {}
    return {"epochs": [{"epoch": epoch, "train/loss": 1 / epoch, **scores} for epoch in EPOCHS]}


def study_group(point: dict, impl: str = "scratch", mean: float = 0.8, std: float = 0.01) -> dict:
    return {"point": point, "impl": impl, "label": ",".join(f"{k}={v}" for k, v in point.items()), "mean": mean,
            "std": std, "seeds": 2, "diverged": 0, "train_loss": [1.0, 0.5, 0.4], "train_loss_std": [0.1] * 3,
            "test_metric": [0.7, 0.8, 0.8], "test_metric_std": [0.01] * 3}


def study(values: list, key: str = "num_hiddens") -> dict:
    return {"name": "hidden", "task": "mlp", "impls": ["scratch"], "vary": {key: values}, "set": {}, "seeds": [0, 1],
            "metric": "final/test_accuracy"}


def epoch_axes(figure) -> list:
    return [ax for ax in figure.axes if ax.get_xlabel() == "epoch"]


def shown_ticks(ax) -> list[float]:
    low, high = sorted(ax.get_xlim())
    return [tick for tick in ax.get_xticks() if low - 1e-9 <= tick <= high + 1e-9]


def test_every_epoch_axis_ticks_whole_epochs():
    plots.use_fonts("en")
    drawn = [plots.training_curves(history(), "curves"),
             plots.compare_curves({"scratch": history(), "concise": history()}, "comparison"),
             plots.linreg_losses({"scratch": history(False), "concise": history(False)}),
             study_plots.study_curves(study([16, 64]), [study_group({"num_hiddens": 16}),
                                                        study_group({"num_hiddens": 64})], "test accuracy")]
    for figure in drawn:
        figure.canvas.draw()
        assert epoch_axes(figure), figure
        for ax in epoch_axes(figure):
            ticks = shown_ticks(ax)
            assert ticks and all(float(tick).is_integer() for tick in ticks), ticks


@pytest.mark.parametrize("values, log", [
    ([0.03, 0.1, 0.3], True), ([16, 64, 256], True), ([1, 2, 4, 8], True), ([0.03, 30.0], True),
    ([0.01, 1.0, 31.6], True), ([0.001, 0.01, 0.1, 1.0, 1.2, 1.4, 2.0, 3.0], True),
    ([10, 20, 30], False), ([100, 200, 300, 400], False), ([1000, 1001, 1009], False), ([0.03, 0.003], False),
    ([0, 1, 2], False),
])
def test_a_log_spaced_grid_is_drawn_on_a_log_axis(values, log):
    assert study_plots.log_spaced(values) == log
    plots.use_fonts("en")
    figure = study_plots.study_metric(study(values), [study_group({"num_hiddens": value}) for value in values],
                                      "final/test_accuracy")
    ax = figure.axes[0]
    assert ax.get_xscale() == ("log" if log else "linear")
    if log and len(values) <= study_plots.TICKED:  # the grid's own values are the ticks
        figure.canvas.draw()
        assert [label.get_text() for label in ax.get_xticklabels()] == [str(value) for value in sorted(values)]


def test_a_confusion_matrixs_counts_fill_their_cells():
    """Counts of up to four digits are at least 10 pt and each fits inside its cell (they were 7 pt)."""
    plots.use_fonts("en")
    classes = [f"class {index}" for index in range(10)]
    matrix = np.full((10, 10), 7) + np.diag(np.full(10, 993))  # 1000 on the diagonal
    metrics = {"confusion_matrix": matrix.tolist(), "per_class_accuracy": {name: 0.9 for name in classes},
               "test/accuracy": 0.9}
    figure = plots.confusion_matrix(metrics, classes, "Softmax regression (scratch)")
    figure.canvas.draw()
    ax = figure.axes[0]
    counts = [text for text in ax.texts if text.get_text().isdigit()]
    assert len(counts) == 100 and min(text.get_fontsize() for text in counts) >= 10
    cell = ax.get_window_extent().width / 10
    assert max(text.get_window_extent().width for text in counts) < cell


def test_a_number_without_spread_shows_the_same_digits_as_one_with_it():
    assert table_text.spread_text(0.735, 0.078) == "0.7350 ± 0.078"
    assert table_text.spread_text(1.0) == "1.000"  # not "1" beside it
    assert table_text.spread_text(1.0, 0.0) == "1.000 ± 0"  # measured over seeds, and the same in each
    assert table_text.spread_text(0.0001234) == "0.0001234"


def images(generate=None) -> FashionData:
    return FashionData("fm", "fm/manifest.json", generate)


def test_the_summary_contents_link_every_section_by_its_anchor():
    trained_on = {task.name: images({"train": 20, "test": 5, "seed": 0}) for task in TASKS.values()}
    sections = contents.summary_sections(trained_on, seeds=2, studies=True)
    anchors = [section.anchor for section in sections]
    assert anchors[0] == "environment" and anchors[-3:] == ["mlflow-runs", "all-seeds", "studies"]
    assert [anchor for anchor in anchors if anchor in TASKS] == list(TASKS)  # every task, in the registry's order
    first_on_images = next(task.name for task in TASKS.values() if task.data.images)
    assert anchors.index("samples") == anchors.index(first_on_images) - 1  # the sample grid just before it
    assert len(set(anchors)) == len(anchors)
    listed = contents.contents(sections).splitlines()
    assert listed == [f"- [{section.title}](#{section.anchor})" for section in sections]
    assert contents.heading(sections[1]) == f'<h2 id="{sections[1].anchor}">{sections[1].title}</h2>'
    assert [section.anchor for section in contents.summary_sections(trained_on, 1, False)][-1] == "mlflow-runs"


def test_the_link_to_the_studies_report_carries_its_link_inside_snakemakes_report():
    link = contents.report_link("the studies report", {"beside": "studies.html", "in_report": "../0123abcd/studies.html"})
    assert '<a href="studies.html" data-report-href="../0123abcd/studies.html">the studies report</a>' in link
    assert r"\/data\/raw\/" in link  # switched only where the page is an item of Snakemake's report


def test_the_reports_intro_names_every_task_of_the_registry(tmp_path):
    template = ROOT / "workflow" / "report" / "workflow.rst"
    runs = [type("Spec", (), {"task": task.name, "data": images()})() for task in TASKS.values()]
    path = Path(catalog.write_intro(template, tmp_path, runs))
    text = path.read_text()
    for task in TASKS.values():
        assert f"- {naming.titled(task.heading, images())}" in text
    assert "$" not in text
    written = path.stat().st_mtime_ns
    catalog.write_intro(template, tmp_path, runs)
    assert path.stat().st_mtime_ns == written  # rewritten only when its text changes


def test_a_big_param_prints_as_what_it_is_and_is_the_same_value_for_the_job():
    specs = [{"name": f"run{index}", "dir": "results/runs/x" * 20} for index in range(50)]
    param = run_specs(specs, "the default runs of seed 0")
    assert f"runs={param}" == "runs=50 run specs: the default runs of seed 0"  # as Snakemake's report prints it
    assert repr(param) == repr(specs) and param == specs and json.dumps(param) == json.dumps(specs)
    study = described({"name": "lr", "vary": {"learning_rate": [0.1, 1.0]}}, "the definition of lr")
    for value in (param, study):  # pickled into the job's script, as Snakemake hands params over
        copy = pickle.loads(pickle.dumps(value, protocol=4))
        assert copy == value and str(copy) == str(value) and type(copy) is type(value)


def test_a_report_notebooks_kernel_prints_no_warning(tmp_path):
    """papermill's kernel talks over IPC sockets: ipykernel's 'Kernel is running over TCP without
    encryption' warning, which every report printed, is gone, and nothing else is printed."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nbformat.write(notebook, tmp_path / "template.ipynb")
    script = ("from nndl.report.notebook import render\n"
              f"render({str(tmp_path / 'template.ipynb')!r}, {str(tmp_path / 'out.ipynb')!r}, "
              f"{str(tmp_path / 'out.html')!r}, {{}})\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert warning_lines(result.stdout + result.stderr) == []
    assert "42" in (tmp_path / "out.html").read_text()


def test_the_mlflow_table_shows_each_runs_first_two_declared_metrics():
    """Whatever the task: a classifier's accuracy, weight decay's ||w||, linear regression's MSE."""
    def summary(task, metrics):
        return {"run_id": task, "run_name": f"{task}-scratch-seed0", "status": "FINISHED", "start_time_ms": 0,
                "tags": {"task": task}, "metrics": metrics}

    table = tables.mlflow_table(
        [summary("softmax", {"final/test_accuracy": 0.8329, "final/test_loss": 0.48021, "train_seconds": 2.0}),
         summary("weight_decay", {"final/weight_norm": 0.35418, "final/test_loss": 0.070177}),
         summary("linreg", {"final/test_mse": 0.0001015, "final/max_abs_w_error": 0.00063})],
        {"softmax-scratch-seed0": "softmax", "weight_decay-scratch-seed0": "weight_decay",
         "linreg-scratch-seed0": "linreg"})
    assert "| test accuracy 0.8329, test loss 0.4802 | 2.0 s |" in table
    assert "| weight norm 0.3542, test loss 0.07018 | - |" in table
    assert "| test mse 0.0001015, max abs w error 0.00063 |" in table
