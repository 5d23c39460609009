"""Where a least-squares run ends, penalized or not (chapter 4's model selection and weight decay):
gradient descent on the run's own quadratic, in closed form, from the run's own start.

A run's objective on its training data is c/2 mean (X~ theta - y)^2 + lambda/2 ||w||^2 (c: its
loss's units, nndl.theory.linear.curvature; lambda: its `weight_decay` setting, none without one;
the bias not decayed). Its gradient is A theta - g with A = c H + lambda P (P: the identity on w, 0
on b) and g = c X~^T y / n, so gradient descent is exact in closed form:
theta_t = theta* + (I - lr A)^t (theta_0 - theta*), theta* = A^+ g: the least-squares solution (of
minimum norm where the examples do not fix it), or the ridge solution. Directions the training
inputs never span keep their start at lambda = 0 and shrink by (1 - lr lambda) per step otherwise.
SGD's minibatches scatter around that path; the prediction is the path's losses on both splits and
its ||w||, each run's from its start, beside the run's own.
"""

from __future__ import annotations

import statistics

import numpy as np

from nndl.tasks.runspec import RunSpec
from nndl.theory import linear
from nndl.theory.verdict import Theory, check, no_prediction, overall, within_factor
from nndl.values import all_numbers, point_label

FACTOR = 1.25  # SGD's scatter around the gradient-descent path (measured: within 5% on these studies)


def weight_decay(spec: RunSpec) -> float:
    """lambda of the run's penalty lambda/2 ||w||^2 (nndl.learn.decay): its `weight_decay` setting, else 0."""
    return float(getattr(spec.settings, "weight_decay", 0.0))


def path_end(spec: RunSpec, start: list[float]) -> dict[str, float]:
    """The final metrics of gradient descent's path from `start` ((w, b) as the run recorded it):
    {'final/train_loss', 'final/test_loss', 'final/test_mse', 'final/weight_norm'}, in the run's units."""
    (X, y), (X_test, y_test) = linear.split_data(spec, "train"), linear.split_data(spec, "test")
    c, d = linear.curvature(spec), X.shape[1] - 1
    A = c * linear.hessian(X) + weight_decay(spec) * np.diag([1.0] * d + [0.0])
    theta_star = np.linalg.lstsq(A, c * X.T @ y / len(X), rcond=None)[0]
    theta = linear.gd_iterate(A, theta_star, np.asarray(start, dtype=np.float64), spec.settings.learning_rate,
                              linear.steps(spec, len(X)))
    units = linear.loss_units(spec)
    return {"final/train_loss": units * linear.half_mse(X, y, theta),
            "final/test_loss": units * linear.half_mse(X_test, y_test, theta),
            "final/test_mse": 2 * linear.half_mse(X_test, y_test, theta),
            "final/weight_norm": float(np.linalg.norm(theta[:d]))}


PREDICTED = ("final/train_loss", "final/test_loss", "final/test_mse", "final/weight_norm")


def applies(study: dict, keys: set[str]) -> bool:
    """Whether the study's metric is one the path predicts and it does not vary the loss (a run whose
    loss is not the squared one, set in its config, is said so by converged_fit)."""
    return study["metric"] in PREDICTED and "loss" not in keys


def converged_fit(study: dict, runs: list[dict]) -> Theory:
    """Each grid point's final metric (mean over seeds) against gradient descent's path from each run's start."""
    if any(run["spec"].settings.loss != "squared" for run in runs):
        return no_prediction("a run's loss is not the squared loss: its objective is no quadratic")
    metric, groups = study["metric"], {}
    for run in runs:
        groups.setdefault((point_label(run["point"]), run["impl"]), []).append(run)
    checks, lines = [], {}
    for (label, impl), members in groups.items():
        predicted = statistics.fmean(path_end(run["spec"], run["history"]["start"])[metric] for run in members)
        finals = [run["value"] for run in members if run["value"] is not None]
        measured = statistics.fmean(finals) if finals else None
        checks.append(check(f"{label} ({impl}): {metric}", predicted, measured,
                            None if measured is None else within_factor(predicted, measured, FACTOR)))
        if len(study["vary"]) == 1:
            [(key, _)] = study["vary"].items()
            lines.setdefault(impl, []).append((members[0]["point"][key], predicted))
    numeric = len(study["vary"]) == 1 and all_numbers(next(iter(study["vary"].values())))
    marks = {"lines": [{"x": [x for x, _ in sorted(points)], "y": [y for _, y in sorted(points)],
                        "label": f"predicted ({impl}): gradient descent's path"}
                       for impl, points in lines.items()]} if numeric else {}
    prediction = ("Each run minimizes a quadratic, its squared loss plus lambda/2 ||w||^2 (lambda its weight_decay, "
                  "0 without one), so gradient descent from its recorded start is exact in closed form on its own "
                  "training data: theta_t = theta* + (I - lr A)^t (theta_0 - theta*), A = c X~^T X~ / n + lambda P, "
                  "theta* the least-squares (minimum-norm) or ridge solution. Directions the training inputs do not "
                  "span keep their start at lambda = 0 and shrink by (1 - lr lambda) a step otherwise. Predicted "
                  f"{metric} at each point: the path's after the run's steps. SGD follows the path where each "
                  "minibatch's curvature is close to the whole set's; with minibatches of a few examples of many "
                  "inputs each step's curvature is far from it, and where the path is still moving the runs can "
                  "run ahead of it.")
    rule = f"agrees when every point's mean {metric} is within {FACTOR}x of the path's (SGD scatters around it)"
    # The headline: the point predicted worst (the largest loss or norm), where the grid's choice matters most.
    headline = max(checks, key=lambda item: item["predicted"] or 0.0) if checks else {"predicted": None, "measured": None}
    return Theory(prediction, headline["predicted"], headline["measured"], overall(checks), rule, checks, marks)
