"""Numbers, booleans and nulls that arrive as text, read as the schema says they are meant.

Two everyday ways give text where a number is meant: YAML 1.1 (PyYAML, which Snakemake uses) reads
`1e-1` as a string (only `1.0e-1` is a float), and Snakemake hands every value inside a `--config`
list or mapping over as text (`--config seeds=[0,1]` gives ['0', '1']). Where the schema allows a
number, an integer, a boolean or null at that key and the text reads as one, the value is taken
as meant; anything else is left for the schema to refuse with its key named.
"""

from __future__ import annotations

import math

from nndl.tasks.registry import TASKS

TRUE, FALSE, NULL = {"true", "yes", "on"}, {"false", "no", "off"}, {"null", "~"}


def as_written(config: dict, schema: dict) -> dict:
    """`config` (changed in place and returned) with text values read as the schema's types, the
    studies' `vary` and `set` values by the schema of the setting they name."""
    _walk(config, schema, schema)
    settings = {name: _task_settings(schema, task.setting_blocks) for name, task in TASKS.items()}
    for study in config.get("studies") or []:
        if not isinstance(study, dict) or study.get("task") not in settings:
            continue
        known = settings[study["task"]]
        vary, fixed = study.get("vary"), study.get("set")  # other shapes: the schema refuses them
        for key, values in (vary.items() if isinstance(vary, dict) else []):
            if key in known and isinstance(values, list):
                vary[key] = [_walk(value, known[key], schema) for value in values]
        for key, value in (fixed.items() if isinstance(fixed, dict) else []):
            if key in known:
                fixed[key] = _walk(value, known[key], schema)
    return config


def _resolve(node: dict, schema: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _task_settings(schema: dict, blocks: tuple[str, ...]) -> dict[str, dict]:
    return {key: node for block in blocks
            for key, node in _resolve(schema["properties"][block], schema).get("properties", {}).items()}


def _walk(value, node: dict, schema: dict):
    """Read `value` (and what it holds) by `node`; containers are changed in place."""
    node = _resolve(node, schema)
    if isinstance(value, dict):
        for key in value:
            child = node.get("properties", {}).get(key)
            if child is None and isinstance(node.get("additionalProperties"), dict):
                child = node["additionalProperties"]
            if child is not None:
                value[key] = _walk(value[key], child, schema)
        for branch in node.get("oneOf", []) + node.get("anyOf", []):  # e.g. generate: null or a block
            if _resolve(branch, schema).get("type") == "object":
                _walk(value, branch, schema)
        return value
    if isinstance(value, list):
        if isinstance(node.get("items"), dict):
            value[:] = [_walk(item, node["items"], schema) for item in value]
        return value
    return _read(value, node, schema)


def _types(node: dict, schema: dict) -> set[str]:
    node = _resolve(node, schema)
    kinds = node.get("type", [])
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    for branch in node.get("oneOf", []) + node.get("anyOf", []):
        kinds |= _types(branch, schema)
    return kinds


def _read(value, node: dict, schema: dict):
    """One scalar: text read as the number, boolean or null the node allows; else unchanged."""
    if not isinstance(value, str):
        return value
    kinds, text = _types(node, schema), value.strip().lower()
    if kinds & {"integer", "number"}:
        number = _number(text, integer_only="number" not in kinds)
        if number is not None:
            return number
    if "boolean" in kinds and text in TRUE | FALSE:
        return text in TRUE
    if "null" in kinds and text in NULL:
        return None
    return value


def _number(text: str, integer_only: bool) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if integer_only:
        return int(number) if number.is_integer() else None
    return number
