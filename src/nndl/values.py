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
