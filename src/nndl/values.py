"""How a setting's value reads in run names, the report and the figures, and what counts as a number."""

from __future__ import annotations

import json


def all_numbers(values: list) -> bool:
    """True when every value is a number (a bool is not, though Python says it is an int)."""
    return all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)


def format_value(value) -> str:
    """A setting's value as the run names and the report show it: 0.1, 1e-05, true, 1/255."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def point_label(point: dict) -> str:
    """'learning_rate=0.1,batch_size=64': one grid point of a study, in run names and folders."""
    return ",".join(f"{key}={format_value(value)}" for key, value in point.items())


# A study grid of more points than this, or a setting's list of more values, is summarised rather
# than listed: the report shows a range and a count and a few chosen points, the parent run's tags a
# range (a list of 1,500 rates is 15,000 characters, and MLflow cuts a tag at 8,000).
MANY = 36


def values_range(values: list) -> dict:
    """{'count', 'min', 'max'} of numbers; {'count', 'first', 'last'} of other values (plain JSON)."""
    if all_numbers(values):
        return {"count": len(values), "min": min(values), "max": max(values)}
    return {"count": len(values), "first": values[0], "last": values[-1]}


def varied_text(vary: dict) -> str:
    """'learning_rate in [0.1, 1.0]', or 'learning_rate: 1,500 values from 0.001 to 3' for more than MANY."""
    parts = []
    for key, values in vary.items():
        if len(values) <= MANY:
            parts.append(f"{key} in [{', '.join(format_value(value) for value in values)}]")
        else:
            ends = values_range(values)
            low, high = (ends["min"], ends["max"]) if "min" in ends else (ends["first"], ends["last"])
            parts.append(f"{key}: {len(values):,} values from {format_value(low)} to {format_value(high)}")
    return "; ".join(parts)
