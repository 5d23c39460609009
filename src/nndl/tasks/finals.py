"""A run's final metrics: every one its task declares (`Task.metrics`), read from the run's history
and metrics (the content of its history.json and metrics.json). MLflow gets them all
(nndl.tracking.recording), a study compares one (nndl.report.studies), the report sums them over
seeds (nndl.report.tables). No torch: plain dicts in, numbers out.
"""

from __future__ import annotations

from nndl.tasks.types import CLASSIFICATION, REGRESSION, Task

# Final metrics that only the last epoch's record holds: a classifier's training loss and accuracy
# are means over its last epoch's minibatches, as the notes print them (no evaluation after training
# computes them; a regression's summary has its own `final/train_loss`, over the whole training set).
FROM_LAST_EPOCH = {"final/train_loss": "train/loss", "final/train_accuracy": "train/accuracy"}
# Final metrics the evaluation after training measures (nndl.learn.evaluation.evaluate_learner): each the
# name of its measurement, by the task's loss family; a task's summary holds those it declares.
MEASURED = {
    REGRESSION: {"final/train_loss": "train/loss", "final/test_loss": "test/loss", "final/test_mse": "test/mse",
                 "final/max_abs_w_error": "max_abs_w_error", "final/abs_b_error": "abs_b_error",
                 "final/weight_norm": "weight_norm"},
    CLASSIFICATION: {"final/test_loss": "test/loss", "final/test_accuracy": "test/accuracy",
                     "final/weight_norm": "weight_norm"},
}
TRAIN_SECONDS = "train_seconds"  # the run's history's training time


def known_metrics(task: Task) -> list[str]:
    """The final metrics a task of `task`'s loss family may declare."""
    return list(dict.fromkeys([*MEASURED[task.loss], *(FROM_LAST_EPOCH if task.classify else ()), TRAIN_SECONDS]))


def unknown_metrics(task: Task) -> list[str]:
    """The final metrics `task` declares that nothing measures for its loss family."""
    return [metric for metric in task.metrics if metric not in known_metrics(task)]


def declared_summary(task: Task, measured: dict[str, float]) -> dict[str, float]:
    """{final metric: value} of the measured final metrics `task` declares, in its order."""
    return {metric: measured[MEASURED[task.loss][metric]] for metric in task.metrics if metric in MEASURED[task.loss]}


def final_value(metric: str, history: dict, metrics: dict) -> float:
    """A run's final value of `metric`, one its task declares (nan where the run diverged)."""
    if metric == TRAIN_SECONDS:
        return history["seconds"]["train"]
    if metric in metrics["summary"]:
        return metrics["summary"][metric]
    return history["epochs"][-1][FROM_LAST_EPOCH[metric]]


def is_learned(metric: str) -> bool:
    """'learned/b', 'learned/w1', ...: one learned parameter of a regression (w numbered from 1)."""
    head, _, index = metric.partition("/w")
    return metric == "learned/b" or (head == "learned" and index.isdigit() and int(index) >= 1)


def book_value(metric: str, history: dict, metrics: dict) -> float | None:
    """A run's value of a metric the book prints for it (nndl.tasks.types.BookResult): a learned
    parameter of a regression (None where the run has no such weight: a fit of lower degree), a
    final metric its task declares, or its last epoch's record."""
    if is_learned(metric):
        learned = metrics["learned"]
        if metric == "learned/b":
            return learned["b"][0]
        index = int(metric.removeprefix("learned/w")) - 1
        return learned["w"][index] if index < len(learned["w"]) else None
    if metric in metrics:  # measured after training: 'test/accuracy'
        return metrics[metric]
    if metric.startswith("final/") or metric == TRAIN_SECONDS:
        return final_value(metric, history, metrics)
    return history["epochs"][-1][metric]


def final_metrics(task: Task, history: dict, metrics: dict) -> dict[str, float]:
    """{metric: value} of every final metric `task` declares, in its order."""
    return {metric: final_value(metric, history, metrics) for metric in task.metrics}
