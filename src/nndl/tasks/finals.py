"""A run's final metrics: every one its task declares (`Task.metrics`), read from the run's history
and metrics (the content of its history.json and metrics.json). MLflow gets them all
(nndl.tracking.recording), a study compares one (nndl.report.studies), the report sums them over
seeds (nndl.report.tables). No torch: plain dicts in, numbers out.
"""

from __future__ import annotations

from nndl.tasks.types import Task

# Final metrics that only the last epoch's record holds: a classifier's training loss and accuracy
# are means over its last epoch's minibatches, as the notes print them (no evaluation after training
# computes them; a regression's summary has its own `final/train_loss`, over the whole training set).
FROM_LAST_EPOCH = {"final/train_loss": "train/loss", "final/train_accuracy": "train/accuracy"}


def final_value(metric: str, history: dict, metrics: dict) -> float:
    """A run's final value of `metric`, one its task declares (nan where the run diverged)."""
    if metric == "train_seconds":
        return history["seconds"]["train"]
    if metric in metrics["summary"]:
        return metrics["summary"][metric]
    return history["epochs"][-1][FROM_LAST_EPOCH[metric]]


def final_metrics(task: Task, history: dict, metrics: dict) -> dict[str, float]:
    """{metric: value} of every final metric `task` declares, in its order."""
    return {metric: final_value(metric, history, metrics) for metric in task.metrics}
