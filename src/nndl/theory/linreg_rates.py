"""The theory of the linear-regression studies of rates: where gradient descent diverges, what a
slow rate leaves, and which summed-loss rate is the mean loss's. From each run's own synthetic
training data; each function takes the study and its runs ({'spec', 'history', 'kind', 'value',
'train_loss', ...}) and returns a Theory."""

from __future__ import annotations

import math
import statistics

import numpy as np

from nndl.runs import outcome
from nndl.tasks.runspec import RunSpec
from nndl.theory import linear
from nndl.theory.verdict import INCONCLUSIVE, Theory, by_value, check, overall, within_factor

LOSS_FACTOR = 1.25  # a gradient-descent model of SGD's final loss is right within this factor
SAME_CURVES = 1e-4  # relative: float32 rounding of sums taken in another order, over a few hundred steps


def _grew(run: dict, start_loss: float) -> bool:
    """Diverged (no final value), or ended with a train loss above the loss at the start."""
    return run["kind"] == outcome.DIVERGED or not run["train_loss"] or not run["train_loss"][-1] < start_loss


def learning_rate(study: dict, runs: list[dict]) -> Theory:
    spec = runs[0]["spec"]
    X, y = linear.training_data(spec)
    H, c = linear.hessian(X), linear.curvature(spec)
    eigenvalues = np.linalg.eigvalsh(H)
    gd_rate = float(2 / (c * eigenvalues.max()))
    ms_rate = linear.mean_square_stable_rate(X, spec.settings.batch_size) / c
    units = linear.loss_units(spec)  # train/loss is in the run's own loss
    start_loss = units * linear.half_mse(X, y, np.zeros(X.shape[1]))
    by_rate = by_value(runs, "learning_rate")
    failing = [rate for rate, members in by_rate.items() if any(_grew(run, start_loss) for run in members)]
    below = [rate for rate in by_rate if not failing or rate < min(failing)]
    prediction = (f"Gradient descent on this loss is stable only for lr < 2 / (c lambda_max) = {gd_rate:.3g} "
                  f"(lambda_max = {eigenvalues.max():.4g} of X~^T X~ / n over the {len(X)} training examples, "
                  f"c = {c:g}); minibatch SGD (B = {spec.settings.batch_size}) keeps its mean square error bounded "
                  f"up to {ms_rate:.3g}, so its onset of divergence is predicted between {ms_rate:.3g} and "
                  f"{gd_rate:.3g}.")
    checks = _slow_rates(spec, X, y, H, c, units, by_rate)
    marks = {"vlines": [{"x": gd_rate, "label": f"2/λmax = {gd_rate:.3g}"},
                        {"x": ms_rate, "label": f"SGD mean-square limit {ms_rate:.3g}"}]}
    rule = (f"a rate diverges when a run's loss is not finite or ends above its start ({start_loss:.4g}); "
            "agrees when the measured onset (between the highest rate below which every run converged and "
            f"the lowest at which one did not) meets [{ms_rate:.3g}, {gd_rate:.3g}], and each slow rate's final "
            f"loss is within {LOSS_FACTOR}x of gradient descent's in the run's steps")
    if not failing or not below:
        checks.insert(0, check("onset of divergence", gd_rate, None, None))
        return Theory(prediction, gd_rate, None, INCONCLUSIVE if not checks[1:] else overall(checks),
                      rule + ("; the grid has no diverging rate" if not failing else "; every rate diverged"),
                      checks, marks)
    bracket = (max(below), min(failing))
    onset_agrees = bracket[0] <= gd_rate and bracket[1] >= ms_rate
    checks.insert(0, check(f"onset of divergence, between {bracket[0]:g} and {bracket[1]:g}", gd_rate,
                           sum(bracket) / 2, onset_agrees))
    return Theory(prediction, gd_rate, sum(bracket) / 2, overall(checks), rule, checks, marks)


def _slow_rates(spec: RunSpec, X, y, H, c: float, units: float, by_rate: dict) -> list[dict]:
    """For rates too slow to converge in the run's steps: the final loss gradient descent predicts
    from the contraction (1 - lr c lambda_i)^t, against the runs' mean final train loss."""
    theta_star = linear.least_squares(X, y)
    floor = units * linear.half_mse(X, y, theta_star)
    t = linear.steps(spec, len(X))
    checks = []
    largest = float(np.linalg.eigvalsh(H).max())
    for rate, members in by_rate.items():
        if rate * c * largest >= 2:
            continue  # gradient descent itself diverges here: no finite loss to predict
        predicted = units * linear.half_mse(X, y, linear.gd_iterate(H, theta_star, np.zeros(X.shape[1]), rate * c, t))
        finals = [run["train_loss"][-1] for run in members if run["kind"] != outcome.DIVERGED and run["train_loss"]]
        if predicted < 2 * floor or not finals:
            continue  # converged to the noise floor: nothing left to predict but the floor
        measured = statistics.fmean(finals)
        slowest = (1 - rate * c * float(np.linalg.eigvalsh(H).min())) ** t
        checks.append(check(f"lr={rate:g}: final train loss after {t} steps (slowest direction x{slowest:.3g})",
                            predicted, measured, within_factor(predicted, measured, LOSS_FACTOR)))
    return checks


def summed_loss(study: dict, runs: list[dict]) -> Theory:
    """reduction='sum' multiplies every gradient by B: at lr / B it is the update of 'mean' at lr."""
    batch = runs[0]["spec"].settings.batch_size
    curves = {(run["impl"], run["seed"], run["point"]["reduction"], run["point"]["learning_rate"]):
              run["train_loss"] + run["test_metric"] for run in runs}
    mean_rates = sorted({rate for (_, _, reduction, rate) in curves if reduction == "mean"})
    sum_rates = sorted({rate for (_, _, reduction, rate) in curves if reduction == "sum"})
    checks, pairs = [], []
    for rate in mean_rates:
        predicted = rate / batch
        differences = {other: _largest_difference(curves, rate, other) for other in sum_rates}
        differences = {other: value for other, value in differences.items() if value is not None}
        if not differences or not any(math.isclose(other, predicted, rel_tol=1e-9) for other in differences):
            continue  # lr / B is not in the grid: nothing to pair this rate with
        closest = min(differences, key=differences.get)
        pairs.append((predicted, closest))
        checks.append(check(f"mean at lr={rate:g}: the summed loss's rate with the closest trajectory "
                            f"(largest relative difference {differences[closest]:.2g})", predicted, closest,
                            math.isclose(closest, predicted, rel_tol=1e-9) and differences[closest] <= SAME_CURVES))
    prediction = (f"A summed loss's gradient is B = {batch} times the mean's, so sum at lr / B takes exactly the "
                  "steps of mean at lr: the same trajectory, up to float32 rounding"
                  + (f" (predicted: {', '.join(f'{p:g}' for p, _ in pairs)})" if pairs else ""))
    rule = (f"agrees when the summed-loss rate whose per-epoch train loss and test metric lie closest to the "
            f"mean loss's, in every implementation and seed, is lr / B and differs from it by at most "
            f"{SAME_CURVES:g} (relative) at every recorded epoch")
    headline = pairs[0] if pairs else (None, None)
    return Theory(prediction, headline[0], headline[1], overall(checks), rule, checks)


def _largest_difference(curves: dict, mean_rate: float, sum_rate: float) -> float | None:
    """The largest relative difference between the mean loss's curves at `mean_rate` and the summed
    loss's at `sum_rate`, over every implementation, seed and recorded epoch (None: nothing to pair)."""
    largest = None
    for (impl, seed, reduction, rate), curve in curves.items():
        other = curves.get((impl, seed, "sum", sum_rate))
        if reduction != "mean" or rate != mean_rate or other is None:
            continue
        if len(other) != len(curve) or not all(map(math.isfinite, other + curve)):
            return math.inf
        largest = max(largest or 0.0, *(abs(a - b) / max(abs(a), abs(b), 1e-12) for a, b in zip(curve, other)))
    return largest


