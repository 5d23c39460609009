"""The theory of the linear-regression studies of the estimate's error: the start (zeros or large),
the last partial minibatch, outliers and the number of examples. The error each run should end
at is predicted from its own training data and start by gradient descent in closed form, plus
SGD's noise; each function takes the study and its runs and returns a Theory."""

from __future__ import annotations

import math
import statistics

import numpy as np

from nndl.tasks.runspec import RunSpec
from nndl.theory import linear
from nndl.theory.verdict import INCONCLUSIVE, Theory, by_value, check, overall, same_within_noise, within_factor
from nndl.values import point_label

ERROR_FACTOR = 2.0  # SGD's noise, which the model only estimates, moves the final iterate a little
EXACT_FACTOR = 1.25  # full-batch gradient descent is the model itself: only float32 is left


def predicted_w_error(spec: RunSpec, start: list[float] | None = None) -> float:
    """E max_i |w_i - w_true_i| after the run's steps: gradient descent's iterate from the run's
    start `start` ((w, b) as the run recorded it; else the mean start, spread by the random
    start's contracted variance), which holds both the start not yet forgotten and the
    least-squares solution's own error on this data; spread by SGD's stationary noise
    lr c sigma^2 / (2B) per coordinate (sigma^2: the residual variance at the least-squares fit;
    none for full batches)."""
    X, y = linear.training_data(spec)
    H, c, t = linear.hessian(X), linear.curvature(spec), linear.steps(spec, len(X))
    theta_star, d = linear.least_squares(X, y), X.shape[1] - 1
    rate = spec.settings.learning_rate * c
    theta_0 = np.zeros(d + 1) if start is None else np.asarray(start, dtype=np.float64)
    bias = linear.gd_iterate(H, theta_star, theta_0, rate, t) - linear.true_parameters(spec)
    variance = np.zeros(d + 1)
    if start is None and spec.settings.init != "zeros":
        M = linear.contraction(H, rate, t)
        variance += np.diag(M @ np.diag([spec.settings.init_std ** 2] * d + [0.0]) @ M.T)
    n, batch = len(X), min(spec.settings.batch_size, len(X))
    residual_variance = float(np.mean((X @ theta_star - y) ** 2))
    variance += rate * residual_variance / (2 * batch) * ((n - batch) / (n - 1) if n > 1 else 0.0)
    return linear.expected_max_abs(bias[:d], np.sqrt(variance[:d]))


def run_w_error(run: dict) -> float:
    """predicted_w_error for one run, from the start its history recorded."""
    return predicted_w_error(run["spec"], run["history"].get("start"))


def _error_checks(study: dict, runs: list[dict], members_of) -> list[dict]:
    """Predicted against mean measured max |w error| per group that the squared loss trains."""
    checks = []
    for label, members in members_of(runs).items():
        finals = [run["value"] for run in members if run["value"] is not None]
        predicted = statistics.fmean(run_w_error(run) for run in members)
        measured = statistics.fmean(finals) if finals else None
        checks.append(check(f"{label}: max |w error|", predicted, measured,
                            None if measured is None else within_factor(predicted, measured, ERROR_FACTOR)))
    return checks


def _groups(runs: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for run in runs:
        grouped.setdefault(f"{point_label(run['point'])} ({run['impl']})", []).append(run)
    return grouped


def initialisation(study: dict, runs: list[dict]) -> Theory:
    """zero-init, large-init: a convex loss has one minimum whatever the start; what is left of the
    start after the run's steps is predicted from the contraction."""
    checks = _error_checks(study, runs, _groups)
    spread = [item["predicted"] for item in checks]
    prediction = ("The squared loss is convex in (w, b): every start, zeros included (the gradient "
                  "X~^T (X~ theta - y) / n is not zero there), converges to the same least-squares solution; "
                  "after the run's steps the start survives only as (I - lr c H)^t (theta_0 - theta*). "
                  f"Predicted max |w error| per start: {', '.join(f'{value:.3g}' for value in spread)}.")
    rule = (f"agrees when every group's mean max |w error| is within {ERROR_FACTOR}x of the gradient-descent "
            "model's (its start's remains, the least-squares error, SGD's noise)")
    # The headline: the start that leaves the most to forget.
    headline = max(checks, key=lambda item: item["predicted"]) if checks else {"predicted": None, "measured": None}
    return Theory(prediction, headline["predicted"], headline["measured"], overall(checks), rule, checks)


def partial_batch(study: dict, runs: list[dict]) -> Theory:
    """A last minibatch of n mod B examples is one step in ceil(n / B): no systematic effect."""
    checks, differences = _error_checks(study, runs, _groups), []
    for impl in dict.fromkeys(run["impl"] for run in runs):
        by_size = {size: [run["value"] for run in members if run["impl"] == impl and run["value"] is not None]
                   for size, members in by_value(runs, "n_train").items()}
        sizes = list(by_size)
        for size in sizes[1:]:
            difference, bound, same = same_within_noise(by_size[size], by_size[sizes[0]])
            if difference is not None:
                differences.append(abs(difference))
            checks.append(check(f"{impl}: n_train={size} against {sizes[0]}, difference of the means "
                                f"(bound {bound:.2g})", 0.0, difference, same))
    prediction = ("No systematic effect: the partial last minibatch is one update of ceil(n / B), averaged over "
                  "fewer examples; the error depends on n through sigma / sqrt(n) only, which barely moves "
                  "between these sizes.")
    rule = (f"agrees when each size's mean max |w error| is within {ERROR_FACTOR}x of the gradient-descent "
            "model's and differs from the first size's by at most two combined standard errors over the seeds")
    # The headline: no difference predicted, the largest measured.
    return Theory(prediction, 0.0, max(differences, default=None), overall(checks), rule, checks)


ROBUST_MARGIN = 3.0  # "far below": a robust loss's error at most a third of the squared loss's predicted one


def huber(study: dict, runs: list[dict]) -> Theory:
    """Outliers move the least-squares solution by an amount the corrupted data gives in closed form;
    the squared loss follows it, the robust losses stay far below it."""
    squared = [run for run in runs if run["spec"].settings.loss == "squared"]
    checks = _error_checks(study, squared, _groups)
    most = max(run["point"].get("outliers", 0) for run in runs)
    corrupted = [run for run in squared if run["point"].get("outliers", 0) == most]
    if not corrupted:
        return Theory("The least-squares solution moves with the outliers.", None, None, INCONCLUSIVE,
                      "no squared-loss run on the corrupted data to compare", checks)
    X, y = linear.training_data(corrupted[0]["spec"])
    shift = linear.least_squares(X, y) - linear.true_parameters(corrupted[0]["spec"])
    predicted = statistics.fmean(run_w_error(run) for run in corrupted)
    for run_loss in ("huber", "absolute"):
        robust = [run["value"] for run in runs if run["spec"].settings.loss == run_loss
                  and run["point"].get("outliers", 0) == most and run["value"] is not None]
        if robust:
            measured = statistics.fmean(robust)
            checks.append(check(f"{run_loss} at outliers={most}: max |w error| below the squared loss's "
                                f"predicted / {ROBUST_MARGIN:g}", predicted / ROBUST_MARGIN, measured,
                                measured <= predicted / ROBUST_MARGIN))
    d = X.shape[1] - 1
    prediction = (f"With {most} of {len(X)} targets moved, the least-squares solution (X~^T X~)^-1 X~^T y of the "
                  f"corrupted data moves w by max |shift| = {np.abs(shift[:d]).max():.3g}; with SGD's noise on "
                  f"the inflated residuals, the squared loss is predicted to end at max |w error| = "
                  f"{predicted:.3g}, and the robust losses (bounded gradients) far below it.")
    rule = (f"agrees when each squared-loss group is within {ERROR_FACTOR}x of the gradient-descent model and "
            f"each robust loss at outliers={most} ends at most 1/{ROBUST_MARGIN:g} of the squared loss's predicted error")
    measured = statistics.fmean(run["value"] for run in corrupted if run["value"] is not None) \
        if any(run["value"] is not None for run in corrupted) else None
    return Theory(prediction, predicted, measured, overall(checks), rule, checks,
                  {"hlines": [{"y": predicted, "label": f"squared loss, predicted ({predicted:.3g})"}]})


def data_size(study: dict, runs: list[dict]) -> Theory:
    """The least-squares error falls like sigma / sqrt(n): slope -0.5 on log-log axes."""
    by_size = by_value(runs, "n_train")
    predicted = {size: statistics.fmean(run_w_error(run) for run in members)
                 for size, members in by_size.items()}
    measured = {size: [run["value"] for run in members if run["value"] is not None] for size, members in by_size.items()}
    checks = [check(f"n_train={size}: mean max |w error|", predicted[size], statistics.fmean(values),
                    within_factor(predicted[size], statistics.fmean(values), EXACT_FACTOR))
              for size, values in measured.items() if values]
    fitted = [size for size in by_size if _converged(by_size[size])]
    slopes = _slopes_per_draw(runs, fitted)
    marks = {"lines": [{"x": list(predicted), "y": list(predicted.values()), "label": "predicted (gradient descent)"}]}
    prediction = ("The least-squares estimate's error is sigma (X~^T X~)^-1/2: it falls like sigma / sqrt(n), "
                  "slope -0.5 on log-log axes; at each n the error the run's full-batch gradient descent should "
                  "end at is computed from that draw's data (its noise, its covariance, its steps).")
    rule = (f"agrees when each n's mean error is within {EXACT_FACTOR}x of the predicted one, and the log-log slope "
            f"fitted per draw over the sizes gradient descent converges on ({len(fitted)} of {len(by_size)}) is "
            "within two standard errors (over the draws) of -0.5")
    if len(slopes) < 2 or len(fitted) < 3:
        return Theory(prediction, -0.5, None, INCONCLUSIVE, rule + ": too few draws or sizes to fit", checks, marks)
    slope, error = statistics.fmean(slopes), statistics.stdev(slopes) / math.sqrt(len(slopes))
    checks.append(check(f"log-log slope over n_train >= {min(fitted)} ({len(slopes)} draws, "
                        f"standard error {error:.2g})", -0.5, slope, abs(slope + 0.5) <= 2 * error))
    slope_x = [min(fitted), max(fitted)]
    marks["lines"].append({"x": slope_x, "y": [predicted[max(fitted)] * (x / max(fitted)) ** -0.5 for x in slope_x],
                           "label": "slope -0.5"})
    return Theory(prediction, -0.5, slope, overall(checks), rule, checks, marks)


def _converged(members: list[dict]) -> bool:
    """Whether the run's steps leave less of the start than a tenth of the least-squares error."""
    for run in members:
        X, y = linear.training_data(run["spec"])
        spec, theta_star = run["spec"], linear.least_squares(X, y)
        rate, t = spec.settings.learning_rate * linear.curvature(spec), linear.steps(spec, len(X))
        left = linear.contraction(linear.hessian(X), rate, t) @ theta_star  # of the start 0
        if np.abs(left).max() > 0.1 * np.abs(theta_star - linear.true_parameters(spec)).max():
            return False
    return True


def _slopes_per_draw(runs: list[dict], sizes: list[int]) -> list[float]:
    """The fitted log-log slope of max |w error| against n_train, one per draw of the data."""
    draws: dict = {}
    for run in runs:
        if run["point"]["n_train"] in sizes and run["value"]:
            draws.setdefault(run["spec"].data.settings.seed, {})[run["point"]["n_train"]] = run["value"]
    return [statistics.linear_regression([math.log(n) for n in values], [math.log(v) for v in values.values()]).slope
            for values in draws.values() if len(values) >= 3]
