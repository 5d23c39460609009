"""Each task's config blocks, made from its registry entry: its settings block (`<task>:`) from its
settings dataclass's fields (nndl.settings.setting) and the entry's `defaults`, its gates block
(`gates: <task>:`) from its gates' bounds; and each data kind's settings block (`synthetic:`) from
its settings dataclass. The schema file holds the rest; the validation adds these
(nndl.config.validate), so a task's and a data kind's keys are declared once, in Python.

No torch, no jsonschema: the workflow imports this where it is parsed.
"""

from __future__ import annotations

import copy
from dataclasses import Field, fields

from nndl.data.sources import DataSpec
from nndl.tasks.types import Task

# A field's annotation (a string under `from __future__ import annotations`) as its JSON type; a
# field of another type says its own (a rule's `type` or `oneOf`).
JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}


def setting_rule(item: Field, defaults: dict) -> dict:
    """The JSON schema of one settings key: its declared rule, its type, its default (`defaults`'s first)."""
    rule = dict(item.metadata["rule"])
    if "oneOf" not in rule and "type" not in rule:
        rule["type"] = JSON_TYPES[str(item.type)]
    if item.name in defaults:
        rule["default"] = defaults[item.name]
    return rule


def block_of(settings: type, description: str, defaults: dict | None = None) -> dict:
    """A config block of the keys of `settings` (a dataclass declared with nndl.settings.setting),
    each with its default (a block may give only some)."""
    return {"type": "object", "additionalProperties": False, "default": {}, "description": description,
            "properties": {item.name: setting_rule(item, defaults or {}) for item in fields(settings)}}


def settings_block(task: Task) -> dict:
    """`<task>:`: every key of its settings, with the entry's defaults."""
    return block_of(task.settings, f"{task.heading}: its settings (nndl.tasks.registry, {task.settings.__name__}).",
                    task.defaults)


def gates_block(task: Task) -> dict:
    """`gates: <task>:`: the bound of each of its gates, with its default."""
    return {"type": "object", "additionalProperties": False, "default": {},
            "properties": {gate.bound: dict(gate.rule) for gate in task.gates}}


def with_tasks(schema: dict, tasks: dict[str, Task], kinds: dict[str, type[DataSpec]]) -> dict:
    """A copy of the schema file's `schema` with each data kind's settings block, each task's settings
    and gates blocks added, and the tasks' names as what `tasks:` may list (every one by default)."""
    schema = copy.deepcopy(schema)
    for kind in kinds.values():
        if kind.block is not None:
            schema["properties"][kind.block] = block_of(
                kind.settings_type, f"The settings of the {kind.kind} data ({kind.__module__}, {kind.__name__}).",
                kind.defaults)
    chosen = schema["properties"]["tasks"]
    chosen["items"]["enum"], chosen["default"] = list(tasks), list(tasks)
    for task in tasks.values():
        schema["properties"][task.name] = settings_block(task)
        schema["properties"]["gates"]["properties"][task.name] = gates_block(task)
    return schema
