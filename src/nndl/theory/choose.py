"""Which prediction a study gets, from what it varies (not from its name): a study a user adds to
the config gets the theory of the setting it varies, or says that there is none."""

from __future__ import annotations

from collections.abc import Callable

from nndl.theory import linreg_errors, linreg_rates, softmax_studies
from nndl.theory.verdict import Theory, no_prediction
from nndl.values import all_numbers

W_ERROR = "final/max_abs_w_error"  # what the error studies' predictions are about
DECADE = 10  # n_train over at least this ratio is a study of data size; a few examples more, of the last minibatch


def prediction_for(study: dict) -> Callable[[dict, list[dict]], Theory] | None:
    """The prediction function for the study's task and varied settings; None where the chapter's
    theory gives none."""
    keys, task = set(study["vary"]), study["task"]
    if task == "linreg":
        if keys == {"learning_rate"} and len(study["impls"]) == 1:  # one implementation: one curvature
            return linreg_rates.learning_rate
        if keys == {"reduction", "learning_rate"}:  # compares whole trajectories, whatever the metric
            return linreg_rates.summed_loss
        if study["metric"] != W_ERROR:
            return None
        if keys <= {"init", "init_std"}:
            return linreg_errors.initialisation
        if "loss" in keys and keys <= {"loss", "outliers"}:
            return linreg_errors.huber
        if "n_train" in keys and keys <= {"n_train", "seed"} and all_numbers(study["vary"]["n_train"]):
            sizes = study["vary"]["n_train"]
            return linreg_errors.data_size if max(sizes) >= DECADE * min(sizes) else linreg_errors.partial_batch
        return None
    if task != "softmax":
        return None
    if keys == {"formula"} and study["metric"] == "train_seconds":
        return softmax_studies.naive_cost
    if "formula" in keys and keys <= {"formula", "pixel_scale"}:
        return softmax_studies.naive_softmax
    return {frozenset({"batch_size", "learning_rate"}): softmax_studies.batch_lr,
            frozenset({"epochs"}): softmax_studies.epochs,
            frozenset({"shuffle"}): softmax_studies.no_shuffle}.get(frozenset(keys))


def theory(study: dict, runs: list[dict]) -> Theory:
    """The study's theory block from its runs ({'spec', 'history', ...} each)."""
    predict = prediction_for(study)
    if predict is None:
        varied = ", ".join(study["vary"])
        return no_prediction(f"chapter 3's theory makes no prediction here for varying {varied} in "
                             f"{study['task']} with metric {study['metric']}")
    return predict(study, runs)
