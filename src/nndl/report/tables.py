"""The tables the summary notebook shows, as Markdown, from the runs' files and MLflow's read-back.

A task's tables are the kinds its registry entry lists (`tables`); `task_tables` makes them, each
a sentence saying what it shows and the table.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime, timezone

from nndl.data.fashion_mnist import CLASS_NAMES
from nndl.data import naming
from nndl.report import contents
from nndl.report.kinds import kind_problems
from nndl.runs import names
from nndl.runs.outputs import load_run, read_metrics
from nndl.tasks.finals import book_value, final_metrics
from nndl.tasks.runspec import RunSpec
from nndl.tasks.registry import TASKS
from nndl.data.sources import FashionData, SyntheticData
from nndl.tasks.types import IMPLS, Task, refuse_entries
from nndl.report.regression_tables import linreg_epoch_table, linreg_error_table, regression_final_table, weights_table
from nndl.report.table_text import by_impl, markdown_table, number_text, spread_text

# The Chinese name beside each English class name (a run's metrics name the classes in English).
CHINESE = dict(zip(CLASS_NAMES["en"], CLASS_NAMES["zh"]))


def environment_table(env: dict) -> str:
    gpus = ", ".join(f"{g['name']} ({g['memory_gib']} GiB)" for g in env["gpus"]) or "none"
    rows = [["Python", env["python"]], ["platform", env["platform"]],
            *[[name, version or "not installed"] for name, version in env["versions"].items()],
            ["CUDA available", env["cuda_available"]], ["GPUs", gpus], ["CPUs", env["cpu_count"]],
            ["device used", f"{env['device']} ({env['device_name']}), config: {env['device_config']}"]]
    return markdown_table(["", "value"], rows)


def load_runs(run_folders: dict[str, str]) -> dict[str, dict]:
    """{'linreg-scratch': {'history', 'metrics', 'record'}, ...}: one seed's runs, by learner."""
    return {learner: load_run(folder) for learner, folder in run_folders.items()}


def settings_sentence(spec: RunSpec) -> str:
    """What a run trained on and how: a synthetic data set's truth and noise, or what a generated
    stand-in is; batch, rate, epochs, seed."""
    settings, data = spec.settings, naming.described(spec.data)
    return (f"{data + ' ' if data else ''}Batch size {settings.batch_size}, learning rate {settings.learning_rate}, {settings.epochs} "
            f"epochs, seed {spec.seed}.")


def trained_on(task: Task, runs: dict[str, dict]) -> SyntheticData | FashionData:
    """The data the task's runs trained on (its first implementation's record says)."""
    return runs[names.learner(task.name, IMPLS[0])]["record"].spec.data


def section_intro(task: Task, runs: dict[str, dict]) -> str:
    """A task's report section up to its tables: its title as the heading (naming the data its runs
    trained on, anchored for the contents), what it is, how it trained (its first implementation's record)."""
    spec = runs[names.learner(task.name, IMPLS[0])]["record"].spec
    return f"{contents.heading(contents.task_section(task, spec.data))}\n\n{task.about}\n\n{settings_sentence(spec)}"


def _final(run: dict, metric: str) -> float | None:
    """A run's final value of a metric: an epoch's ('train/loss': its metrics file's, else its last
    epoch's), a final one ('final/weight_norm') or a learned parameter ('learned/w1'; None where it
    has none)."""
    return book_value(metric, run["history"], run["metrics"])


def classifier_table(task: Task, runs: dict[str, dict]) -> str:
    rows = [[impl, *(f"{_final(run, metric):.4f}" for metric in ("train/loss", "train/accuracy", "test/loss",
                                                                  "test/accuracy")),
             f"{run['history']['untrained']['untrained/test_accuracy']:.4f}"]
            for impl, run in by_impl(task, runs).items()]
    return (f"Final numbers (the untrained column is the same model before its first step; guessing scores about "
            f"{1 / task.n_outputs:.2g}):\n\n" + markdown_table(
                ["", "train loss", "train accuracy", "test loss", "test accuracy", "untrained test accuracy"], rows))


def book_table(task: Task, runs: dict[str, dict]) -> str | None:
    """The book's published numbers beside this run's of the same implementation, edition by
    edition, with where each was printed; None for a task the book gives no numbers for. Runs on a
    generated stand-in are not set beside them: the book's numbers stand alone, and the table says why."""
    if not task.book:
        return None
    metrics = list(dict.fromkeys(metric for result in task.book for metric in result.metrics))
    runs_of, data = by_impl(task, runs), trained_on(task, runs)

    def cell(result, metric: str) -> str:
        book = number_text(result.metrics[metric]) if metric in result.metrics else "-"
        here = _final(runs_of[result.impl], metric)
        return book if data.stand_in else f"{book} / {'-' if here is None else number_text(here)}"

    rows = [[result.edition, result.impl, *(cell(result, metric) for metric in metrics), result.source]
            for result in task.book]
    what = ("The book's numbers (*Dive into Deep Learning*, each edition's executed notebook: what it prints, else "
            "the last point of its training plot, read off)")
    said = (f"{what}, alone: these runs trained on {naming.display_name(data)}, not comparable with the book's; a dash "
            "where that edition shows none" if data.stand_in else
            f"{what} beside this run's; a dash where that edition shows none")
    column = "(book)" if data.stand_in else "(book / here)"
    return (f"{said}:\n\n" + markdown_table(
        ["edition", "impl", *(f"{metric.removeprefix('final/').replace('/', ' ')} {column}" for metric in metrics), "source"], rows))


def baseline_table(task: Task, runs: dict[str, dict]) -> str | None:
    """The task's final numbers beside its baseline task's (the same seed and implementation): what
    it adds. None for a task with no baseline."""
    if task.baseline is None:
        return None
    base = TASKS[task.baseline]
    ours, theirs = by_impl(task, runs), by_impl(base, runs)

    def change(impl: str, metric: str) -> str:
        before, after = _final(theirs[impl], metric), _final(ours[impl], metric)
        return f"{before:.4f} → {after:.4f} ({after - before:+.4f})"

    metrics = ("train/loss", "train/accuracy", "test/loss", "test/accuracy")
    rows = [[impl, *(change(impl, metric) for metric in metrics),
             f"{theirs[impl]['history']['seconds']['train']:.1f} → {ours[impl]['history']['seconds']['train']:.1f}"]
            for impl in IMPLS]
    return (f"{task.heading} beside {base.heading.lower()}, the same data, batches and epochs ({base.heading.lower()} "
            f"→ {task.heading.lower()}, change):\n\n"
            + markdown_table(["", *(metric.replace("/", " ") for metric in metrics), "training seconds"], rows))


def per_class_table(task: Task, runs: dict[str, dict]) -> str:
    accuracies = {impl: run["metrics"]["per_class_accuracy"] for impl, run in by_impl(task, runs).items()}
    rows = [[f"{name} ({CHINESE[name]})" if name in CHINESE else name,
             *(f"{accuracies[impl][name]:.3f}" for impl in IMPLS)] for name in accuracies[IMPLS[0]]]
    return "Per-class test accuracy:\n\n" + markdown_table(["class", *IMPLS], rows)


# table kind (what a task lists in its `tables`) -> how it is made from one seed's runs; None: nothing to show
TABLES: dict[str, Callable[[Task, dict[str, dict]], str | None]] = {
    "linreg_epochs": linreg_epoch_table, "linreg_errors": linreg_error_table,
    "regression_final": regression_final_table, "weights": weights_table,
    "classifier": classifier_table, "book": book_table, "baseline": baseline_table, "per_class": per_class_table,
}
# A misspelt kind stops the workflow where it is parsed (common.smk imports this), not the report.
refuse_entries(kind_problems(TASKS.values(), "table", lambda task: task.tables, TABLES, "nndl.report.tables.TABLES"))


def task_tables(task: Task, runs: dict[str, dict]) -> list[str]:
    """The task's tables (its `tables` kinds, in order) as Markdown, from one seed's runs ({learner:
    run}, as load_runs reads them)."""
    return [table for table in (TABLES[kind](task, runs) for kind in task.tables) if table is not None]


def _timestamp(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def key_metrics(summary: dict) -> str:
    """A run's first two final metrics as its task declares them (what its studies compare by
    default), from MLflow's read-back: 'test accuracy 0.8329, test loss 0.4802'."""
    metrics, task = summary["metrics"], TASKS.get(summary["tags"].get("task", ""))
    shown = [metric for metric in (task.metrics if task else ()) if metric in metrics][:2]
    return ", ".join(f"{metric.removeprefix('final/').replace('_', ' ')} {metrics[metric]:.4g}"
                     for metric in shown) or "-"


def mlflow_table(summaries: list[dict], run_ids: dict[str, str]) -> str:
    """The pipeline's current runs as MLflow has them: id, status, key metrics, duration."""
    by_id = {summary["run_id"]: summary for summary in summaries}
    rows = []
    for name, run_id in run_ids.items():
        summary = by_id.get(run_id)
        if summary is None:
            rows.append([name, run_id or "-", "not in this store", "-", "-", "-"])
            continue
        metrics = summary["metrics"]
        seconds = metrics.get("train_seconds")
        rows.append([summary["run_name"], f"`{run_id}`", summary["status"], key_metrics(summary),
                     f"{seconds:.1f} s" if seconds is not None else "-", _timestamp(summary["start_time_ms"])])
    return markdown_table(["run", "run id", "status", "key metrics", "training time", "started"], rows)


def seed_statistics_table(run_folders: dict[str, dict[str, str]]) -> str:
    """Every final metric of the default runs over the seeds (their summaries and what their tasks
    declare): mean ± standard deviation (n - 1), min, max."""
    by_run: dict[str, dict[str, list[float]]] = {}
    for folders in run_folders.values():
        for run, folder in folders.items():
            found = load_run(folder)
            finals = final_metrics(found["record"].spec.definition, found["history"], found["metrics"])
            for metric, value in {**found["metrics"]["summary"], **finals}.items():
                if "/class_accuracy/" not in metric:
                    by_run.setdefault(run, {}).setdefault(metric, []).append(value)
    rows = [[run, metric.removeprefix("final/"), spread_text(statistics.fmean(values), statistics.stdev(values), 6),
             spread_text(min(values), digits=6), spread_text(max(values), digits=6)]
            for run, metrics in by_run.items() for metric, values in metrics.items()]
    return markdown_table(["run", "final metric", f"mean ± std over {len(run_folders)} seeds", "min", "max"], rows)


def seed_accuracy_table(run_folders: dict[str, dict[str, str]]) -> str | None:
    """Test accuracy of every classifier's learners, a row per seed ({seed: {learner: folder}});
    None without a classifier."""
    learners = [names.learner(task.name, impl) for task in TASKS.values() if task.classify for impl in IMPLS]
    learners = [learner for learner in learners if all(learner in folders for folders in run_folders.values())]
    if not learners:
        return None
    rows = [[seed, *(f"{read_metrics(folders[learner])['test/accuracy']:.4f}" for learner in learners)]
            for seed, folders in run_folders.items()]
    return "Test accuracy of every classifier for every seed:\n\n" + markdown_table(["seed", *learners], rows)
