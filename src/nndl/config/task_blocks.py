"""Each task's config blocks, made from its registry entry: its settings block (`<task>:`) from its
settings dataclass's fields (nndl.tasks.types.setting) and the entry's `defaults`, its gates block
(`gates: <task>:`) from its gates' bounds. The schema file holds what is not a task's; the
validation adds these (nndl.config.validate), so a task's keys are declared once, in Python.

No torch, no jsonschema: the workflow imports this where it is parsed.
"""

from __future__ import annotations

import copy
from dataclasses import Field, fields

from nndl.tasks.types import Task

# A field's annotation (a string under `from __future__ import annotations`) as its JSON type; a
# field of another type says its own (a rule's `type` or `oneOf`).
JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}


def setting_rule(item: Field, task: Task) -> dict:
    """The JSON schema of one settings key of `task`: its declared rule, its type, its default."""
    rule = dict(item.metadata["rule"])
    if "oneOf" not in rule and "type" not in rule:
        rule["type"] = JSON_TYPES[str(item.type)]
    if item.name in task.defaults:
        rule["default"] = task.defaults[item.name]
    return rule


def settings_block(task: Task) -> dict:
    """`<task>:`: every key of its settings, each with its default (a block may give only some)."""
    properties = {item.name: setting_rule(item, task) for item in fields(task.settings)}
    return {"type": "object", "additionalProperties": False, "default": {},
            "description": f"{task.heading}: its settings (nndl.tasks.registry, {task.settings.__name__}).",
            "properties": properties}


def gates_block(task: Task) -> dict:
    """`gates: <task>:`: the bound of each of its gates, with its default."""
    return {"type": "object", "additionalProperties": False, "default": {},
            "properties": {gate.bound: dict(gate.rule) for gate in task.gates}}


def with_tasks(schema: dict, tasks: dict[str, Task]) -> dict:
    """A copy of the schema file's `schema` with each task's settings and gates blocks added, and
    the tasks' names as what `tasks:` may list (every one by default)."""
    schema = copy.deepcopy(schema)
    chosen = schema["properties"]["tasks"]
    chosen["items"]["enum"], chosen["default"] = list(tasks), list(tasks)
    for task in tasks.values():
        schema["properties"][task.name] = settings_block(task)
        schema["properties"]["gates"]["properties"][task.name] = gates_block(task)
    return schema
