"""A theory block: the prediction, its number, the measured counterpart, the verdict and its rule.

`checks` holds the comparisons behind the verdict (one per grid point or implementation where
there are several); `marks` is what the study's figure draws for the prediction (a vertical line
at a threshold, a dashed line of predicted values), in the figure's own data units.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field

AGREES, DISAGREES, INCONCLUSIVE = "agrees", "disagrees", "inconclusive"


@dataclass(frozen=True)
class Theory:
    prediction: str  # the claim in words, with its formula and the numbers it gives
    predicted: float | None  # the headline predicted number, None where the claim has none
    measured: float | None  # its measured counterpart
    verdict: str  # AGREES, DISAGREES or INCONCLUSIVE
    rule: str  # how the verdict was decided: the tolerance, interval or test
    checks: list[dict] = field(default_factory=list)  # [{'what', 'predicted', 'measured', 'agrees'}]
    marks: dict = field(default_factory=dict)  # {'vlines': [{'x', 'label'}], 'hlines': [{'y', 'label'}],
    #                                             'lines': [{'x', 'y', 'label'}]}

    def to_json(self) -> dict:
        return {key: _json_number(value) for key, value in asdict(self).items()}


def _json_number(value):
    """NaN and infinities as None: the summary stays valid JSON."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def no_prediction(reason: str) -> Theory:
    return Theory(prediction=f"No prediction: {reason}", predicted=None, measured=None,
                  verdict=INCONCLUSIVE, rule="nothing to compare")


def check(what: str, predicted: float | None, measured: float | None, agrees: bool | None) -> dict:
    """One comparison, as plain JSON (numpy numbers and bools become Python's)."""
    return {"what": what, "predicted": _json_number(None if predicted is None else float(predicted)),
            "measured": _json_number(None if measured is None else float(measured)),
            "agrees": None if agrees is None else bool(agrees)}


def overall(checks: list[dict]) -> str:
    """AGREES when every decided check agrees, DISAGREES when one does not, else INCONCLUSIVE."""
    decided = [item["agrees"] for item in checks if item["agrees"] is not None]
    if not decided:
        return INCONCLUSIVE
    return AGREES if all(decided) else DISAGREES


def within_factor(predicted: float, measured: float, factor: float) -> bool:
    return predicted > 0 and measured > 0 and abs(math.log(measured / predicted)) <= math.log(factor)


def standard_error(values: list[float]) -> float:
    """Of the mean of `values`: sample standard deviation / sqrt(n); 0 for one value."""
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def same_within_noise(a: list[float], b: list[float], z: float = 2.0) -> tuple[float | None, float, bool | None]:
    """(difference of the means, its bound z * combined standard error, whether it is within it);
    undecided (None) when a side has no value or there is no spread to compare with (one seed)."""
    if not a or not b:
        return None, 0.0, None
    difference = statistics.fmean(a) - statistics.fmean(b)
    bound = z * math.hypot(standard_error(a), standard_error(b))
    return difference, bound, (abs(difference) <= bound) if bound > 0 else None


def by_value(runs: list[dict], key: str) -> dict:
    """{value of the varied setting `key`: its runs}, in the value's order."""
    grouped: dict = {}
    for run in runs:
        grouped.setdefault(run["point"][key], []).append(run)
    return dict(sorted(grouped.items()))
