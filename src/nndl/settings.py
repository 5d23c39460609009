"""A config block's keys declared once, in Python: each a dataclass field with its rule (its
description, its JSON schema beyond the type its annotation gives, its default). The schema's blocks
of the tasks and of the data kinds are made from them where the config is validated
(nndl.config.task_blocks). No torch: the workflow imports this where it is parsed.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any


def setting(description: str, **rule: Any) -> Any:
    """A settings field declared with its config key's rule: its description, its JSON schema
    beyond the type its annotation gives (bounds, enum, oneOf, items) and its `default` where every
    user of the block has the same one (else a task entry's `defaults` gives it)."""
    return field(metadata={"rule": {"description": description, **rule}})


def gate_bound(description: str, default: float, **rule: Any) -> dict:
    """A gate's bound as its config key (`gates: <task>: <bound>`): a number, its description, default and bounds."""
    return {"type": "number", "description": description, "default": default, **rule}
