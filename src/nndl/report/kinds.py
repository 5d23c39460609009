"""Whether every figure and table kind a task of the registry lists exists: a misspelt kind stops
the workflow where it is parsed (nndl.report.catalog checks the figures' as it is imported, the
workflow the tables'), not the report after all the training. The rest of an entry is checked with
the config (nndl.config.tasks). No imports from the report: its modules call this."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nndl.errors import ConfigError
from nndl.tasks.types import Task


def kind_problems(tasks: Iterable[Task], what: str, kinds_of: Callable[[Task], tuple[str, ...]], known: dict,
                  where: str) -> list[str]:
    """Each task's `what` ('figure', 'table') kinds (`kinds_of` it) not in `known` (declared in
    `where`), said with the ones that are; [] if none."""
    return [f"task {task.name!r}: {what} kinds {', '.join(map(repr, unknown))} do not exist: the kinds are "
            f"{', '.join(known)} ({where})"
            for task in tasks if (unknown := [kind for kind in kinds_of(task) if kind not in known])]


def check(problems: list[str]) -> None:
    """ConfigError listing `problems`, if there are any."""
    if problems:
        raise ConfigError("the task registry is incomplete:\n  " + "\n  ".join(problems))
