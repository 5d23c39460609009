"""The theory of the softmax-regression studies: float32's range, the operations' count, the
linear scaling rule, and what a convex 7850-weight model on 60000 examples predicts.

Each function takes the study's definition and its runs ({'spec', 'kind', 'value', 'history',
...}) and returns a Theory.
"""

from __future__ import annotations

import math
import statistics

import numpy as np

from nndl.data.fashion_mnist import IMAGE_SHAPE, NUM_CLASSES
from nndl.runs import outcome
from nndl.tasks.registry import task_named
from nndl.theory.verdict import INCONCLUSIVE, Theory, check, overall, same_within_noise, standard_error
from nndl.values import format_value

# exp(x) is inf in float32 above ln(FLT_MAX) = 88.72...
LN_FLOAT32_MAX = float(np.log(np.finfo(np.float32).max))
COST_TOLERANCE = 0.05  # timings on a shared machine: a ratio within 5% of the prediction agrees


def first_overflow_step(max_logits: list[float]) -> int | None:
    """The first step (1-based) whose largest logit is above ln(FLT_MAX): where exp(o) is inf and
    the naive softmax inf / inf = nan. None if no recorded step is."""
    return next((step for step, logit in enumerate(max_logits, 1) if logit > LN_FLOAT32_MAX), None)


def naive_softmax(study: dict, runs: list[dict]) -> Theory:
    """Predict from the stable run's largest logit per step where the naive one (same seed, same
    minibatches, the same arithmetic up to there) first overflows."""
    stable = {_twin_key(run): run for run in runs if run["spec"].settings.formula == "stable"}
    checks = []
    for run in runs:
        if run["spec"].settings.formula != "naive" or _twin_key(run) not in stable:
            continue
        logits = stable[_twin_key(run)]["history"].get("max_logits") or []
        predicted = first_overflow_step(logits)
        diverged = run["history"].get("diverged") or {}
        measured = diverged.get("step") if run["kind"] == outcome.DIVERGED else None
        if measured is not None and diverged.get("epoch") != 1:
            measured = len(logits) + 1  # after epoch 1: after the steps recorded
        where = ",".join(f"{k}={format_value(v)}" for k, v in run["point"].items() if k != "formula")
        if predicted is None and measured is not None and measured > len(logits):
            agrees = None  # it failed after the steps the stable run recorded: nothing was predicted there
        else:
            agrees = predicted == measured
        checks.append(check(f"{where}, seed {run['seed']}: first overflowing step (of {len(logits)} recorded)",
                            predicted, measured, agrees))
    headline = next((item for item in checks if item["predicted"] is not None), checks[0] if checks else None)
    for run in stable.values():
        where = ",".join(f"{k}={format_value(v)}" for k, v in run["point"].items())
        checks.append(check(f"stable softmax at {where}, seed {run['seed']}: trained to the end (never overflows)",
                            None, None, run["kind"] != outcome.DIVERGED))
    largest = max((logit for run in stable.values() for logit in run["history"].get("max_logits") or []), default=None)
    prediction = (f"float32 exp(o) is inf for o > ln(FLT_MAX) = {LN_FLOAT32_MAX:.2f}, and the naive softmax is then "
                  "inf / inf = nan: the naive run is predicted to fail at the first step where the stable run "
                  "(same seed, same minibatches) had a logit above it; the stable softmax subtracts the row's "
                  f"maximum and never overflows (largest logit recorded: {largest:.4g})." if largest is not None else
                  "float32 exp(o) overflows above ln(FLT_MAX); no stable run recorded its logits.")
    rule = "agrees when every naive run fails exactly at the predicted step (or never, where none is predicted) and no stable run diverges"
    return Theory(prediction, headline and headline["predicted"], headline and headline["measured"],
                  overall(checks) if checks else INCONCLUSIVE, rule, checks)


def _twin_key(run: dict) -> tuple:
    return run["impl"], run["seed"], tuple((k, format_value(v)) for k, v in run["point"].items() if k != "formula")


def naive_cost(study: dict, runs: list[dict]) -> Theory:
    """Both formulas cost the same to within the softmax's share of a step: the matrix products
    (2 d q flops per example forward, 2 d q for the weights' gradient) dwarf either softmax (a few q)."""
    d, q = math.prod(IMAGE_SHAPE), NUM_CLASSES
    stable_ops, naive_ops = 5 * q, 4 * q  # max, subtract, exp, sum, log-gather | exp, sum, divide, log-gather
    predicted = (4 * d * q + 2 * naive_ops) / (4 * d * q + 2 * stable_ops)  # forward and backward
    seconds = {formula: {(run["impl"], run["seed"]): run["value"] for run in runs if run["spec"].settings.formula == formula
                         and run["value"] is not None} for formula in ("stable", "naive")}
    pairs = sorted(seconds["stable"].keys() & seconds["naive"].keys())  # (impl, seed) run both ways
    prediction = (f"Per example a step costs 4 d q = {4 * d * q} flops in the matrix products against "
                  f"{2 * stable_ops} (stable) or {2 * naive_ops} (naive) in the softmax and its gradient: "
                  f"the naive formula is predicted to take {predicted:.4f}x the stable one's time.")
    rule = f"agrees when the mean per-seed ratio of train_seconds is within {COST_TOLERANCE:.0%} or two standard errors of the prediction"
    if not pairs:
        return Theory(prediction, predicted, None, INCONCLUSIVE, rule + ": no pair of runs to compare")
    ratios = [seconds["naive"][pair] / seconds["stable"][pair] for pair in pairs]
    measured, error = statistics.fmean(ratios), standard_error(ratios)
    agrees = abs(measured - predicted) <= max(COST_TOLERANCE * predicted, 2 * error)
    checks = [check(f"train_seconds naive / stable over {len(pairs)} seeds (standard error {error:.2g})",
                    predicted, measured, agrees)]
    return Theory(prediction, predicted, measured, overall(checks), rule, checks)


def batch_lr(study: dict, runs: list[dict]) -> Theory:
    """The linear scaling rule: the best learning rate grows in proportion to the batch size."""
    means: dict = {}
    for run in runs:
        if run["value"] is not None:
            means.setdefault(run["point"]["batch_size"], {}).setdefault(run["point"]["learning_rate"], []).append(run["value"])
    rates = sorted({rate for by_rate in means.values() for rate in by_rate})
    better = max if task_named(study["task"]).better(study["metric"]) == "max" else min
    best = {batch: better(by_rate, key=lambda rate: statistics.fmean(by_rate[rate]))
            for batch, by_rate in sorted(means.items())}
    checks = []
    batches = list(best)
    for small, large in zip(batches, batches[1:]):
        predicted, measured = large / small, best[large] / best[small]
        edge = best[small] == rates[0] or best[large] == rates[-1]
        # Where a best rate is at the grid's edge, the true best may lie beyond it: only a fall contradicts.
        agrees = None if edge and measured >= 1 else (measured >= 1 and math.isclose(
            math.log(measured), math.log(predicted), abs_tol=math.log(_grid_step(rates))))
        checks.append(check(f"best rate at batch {large} over best at {small}" + (" (a best rate at the grid's edge)" if edge else ""),
                            predicted, measured, agrees))
    prediction = ("Linear scaling rule: an SGD step averages B gradients, so over the same epochs the best learning "
                  "rate grows like B: predicted best-rate ratios " + ", ".join(
                      f"{large / small:g}x from batch {small} to {large}" for small, large in zip(batches, batches[1:]))
                  + "; best rates measured: " + ", ".join(f"{format_value(rate)} at {batch}" for batch, rate in best.items()) + ".")
    rule = ("agrees when each measured ratio of best rates matches B's ratio within one step of the rate grid; "
            "a best rate at the grid's edge decides nothing unless the best rate falls as B grows")
    first = checks[0] if checks else {"predicted": None, "measured": None}
    return Theory(prediction, first["predicted"], first["measured"], overall(checks), rule, checks)


def _grid_step(rates: list[float]) -> float:
    """The largest ratio between neighbouring rates of the grid."""
    return max((b / a for a, b in zip(rates, rates[1:])), default=1.0)


def epochs(study: dict, runs: list[dict]) -> Theory:
    """A convex model with 7850 weights on 60000 examples barely overfits: test accuracy levels off."""
    curves = [run["test_metric"] for run in runs if run["kind"] != outcome.DIVERGED and run["test_metric"]]
    if not curves:
        return Theory("Little overfitting is predicted.", 0.0, None, INCONCLUSIVE, "no run trained to the end")
    length = min(map(len, curves))
    mean = [statistics.fmean(curve[epoch] for curve in curves) for epoch in range(length)]
    peak = max(range(length), key=mean.__getitem__)
    drop = mean[peak] - mean[-1]
    finals = [curve[length - 1] for curve in curves]
    noise = 2 * standard_error(finals) if len(finals) > 1 else 0.0
    bound = max(noise, 0.005)
    parameters = (math.prod(IMAGE_SHAPE) + 1) * NUM_CLASSES
    prediction = (f"The loss is convex and the model has {parameters} weights for 60000 examples: it is predicted to "
                  "overfit little, so test accuracy levels off rather than falls; the drop from its best epoch to "
                  "the last stays within the seeds' noise.")
    rule = f"agrees when the mean test accuracy's drop from its best epoch ({peak + 1}) to the last ({length}) is at most {bound:.3g} (two standard errors over the seeds, at least 0.005)"
    checks = [check("drop of mean test accuracy after its best epoch", 0.0, drop, drop <= bound)]
    return Theory(prediction, 0.0, drop, overall(checks), rule, checks)


def no_shuffle(study: dict, runs: list[dict]) -> Theory:
    """Without reshuffling SGD still converges to the same (convex) optimum: no difference beyond the seeds'."""
    finals = {value: [run["value"] for run in runs if run["point"]["shuffle"] == value and run["value"] is not None]
              for value in (True, False)}
    prediction = ("The loss is convex: a fixed minibatch order (incremental gradient) reaches the same neighbourhood of "
                  "the one optimum as reshuffling, so the final test accuracy is predicted not to differ beyond the seeds' spread.")
    rule = "agrees when the difference of the mean final test accuracies is within two combined standard errors over the seeds"
    if not finals[True] or not finals[False]:
        return Theory(prediction, 0.0, None, INCONCLUSIVE, rule + ": one side has no finished run")
    difference, bound, same = same_within_noise(finals[False], finals[True])
    if bound == 0.0:
        return Theory(prediction, 0.0, difference, INCONCLUSIVE, rule + ": one seed, no spread to compare with")
    checks = [check(f"no shuffle minus shuffle (bound {bound:.2g})", 0.0, difference, same)]
    return Theory(prediction, 0.0, difference, overall(checks), rule, checks)
