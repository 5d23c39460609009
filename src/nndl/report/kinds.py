"""Whether every figure and table kind a task of the registry lists exists: nndl.report.catalog
and nndl.report.tables each check theirs as they are imported, where the workflow is parsed, so a
misspelt kind stops the run before any job, not the report after all the training. The rest of an
entry is checked with the config (nndl.config.tasks). No imports from the report: its modules call this."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nndl.tasks.types import Task


def kind_problems(tasks: Iterable[Task], what: str, kinds_of: Callable[[Task], tuple[str, ...]], known: dict,
                  where: str) -> list[str]:
    """Each task's `what` ('figure', 'table') kinds (`kinds_of` it) not in `known` (declared in
    `where`), said with the ones that are; [] if none."""
    return [f"task {task.name!r}: {what} kinds {', '.join(map(repr, unknown))} do not exist: the kinds are "
            f"{', '.join(known)} ({where})"
            for task in tasks if (unknown := [kind for kind in kinds_of(task) if kind not in known])]
