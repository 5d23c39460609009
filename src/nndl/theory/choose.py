"""Which prediction a study gets, from its task's family of theory and what it varies (not from its
name): a study a user adds to the config gets the theory of the setting it varies, or says that
there is none, and a task the chapter's theory does not cover says why (its `no_theory`)."""

from __future__ import annotations

from collections.abc import Callable

from nndl.tasks.registry import task_named
from nndl.tasks.types import CONVEX_CROSS_ENTROPY, LEAST_SQUARES, PENALIZED_LEAST_SQUARES
from nndl.theory import fit_iterate, linreg_errors, linreg_rates, softmax_studies
from nndl.theory.verdict import Theory, no_prediction
from nndl.values import all_numbers

W_ERROR = "final/max_abs_w_error"  # what the error studies' predictions are about
DECADE = 10  # n_train over at least this ratio is a study of data size; a few examples more, of the last minibatch

Prediction = Callable[[dict, list[dict]], Theory]


def _linreg_prediction(study: dict, keys: set[str]) -> Prediction | None:
    """Least squares on generated data (linear regression, a polynomial's features): rates from the
    curvature, errors from least squares, and any other final loss or norm from gradient descent's path."""
    if keys == {"learning_rate"} and len(study["impls"]) == 1:  # one implementation: one curvature
        return linreg_rates.learning_rate
    if keys == {"reduction", "learning_rate"}:  # compares whole trajectories, whatever the metric
        return linreg_rates.summed_loss
    if study["metric"] != W_ERROR:
        return _path_prediction(study, keys)
    if keys <= {"init", "init_std"}:
        return linreg_errors.initialisation
    if "loss" in keys and keys <= {"loss", "outliers"}:
        return linreg_errors.huber
    if "n_train" in keys and keys <= {"n_train", "seed"} and all_numbers(study["vary"]["n_train"]):
        sizes = study["vary"]["n_train"]
        return linreg_errors.data_size if max(sizes) >= DECADE * min(sizes) else linreg_errors.partial_batch
    return None


def _path_prediction(study: dict, keys: set[str]) -> Prediction | None:
    """Any other study of a squared loss's final losses or ||w||, penalized or not: where gradient
    descent's path on the run's own quadratic ends (fit_iterate)."""
    return fit_iterate.converged_fit if fit_iterate.applies(study, keys) else None


def _softmax_prediction(study: dict, keys: set[str]) -> Prediction | None:
    """Softmax regression: float32's range, the operations' count, the linear scaling rule, convexity."""
    if keys == {"formula"} and study["metric"] == "train_seconds":
        return softmax_studies.naive_cost
    if "formula" in keys and keys <= {"formula", "pixel_scale"}:
        return softmax_studies.naive_softmax
    return {frozenset({"batch_size", "learning_rate"}): softmax_studies.batch_lr,
            frozenset({"epochs"}): softmax_studies.epochs,
            frozenset({"shuffle"}): softmax_studies.no_shuffle}.get(frozenset(keys))


# a task's `theory` (the family of chapter 3's predictions it gets) -> how a study of it finds its prediction
FAMILIES: dict[str, Callable[[dict, set[str]], Prediction | None]] = {
    LEAST_SQUARES: _linreg_prediction, PENALIZED_LEAST_SQUARES: _path_prediction,
    CONVEX_CROSS_ENTROPY: _softmax_prediction}


def prediction_for(study: dict) -> Prediction | None:
    """The prediction function for the study's task and varied settings; None where the chapter's
    theory gives none."""
    family = task_named(study["task"]).theory
    return FAMILIES[family](study, set(study["vary"])) if family else None


def theory(study: dict, runs: list[dict]) -> Theory:
    """The study's theory block from its runs ({'spec': RunSpec, 'history', ...} each)."""
    task = task_named(study["task"])
    if task.theory is None:
        return no_prediction(task.no_theory or f"chapter 3's theory says nothing of {task.heading.lower()}")
    predict = prediction_for(study)
    if predict is None:
        varied = ", ".join(study["vary"])
        return no_prediction(f"chapter 3's theory makes no prediction here for varying {varied} in "
                             f"{study['task']} with metric {study['metric']}")
    return predict(study, runs)
