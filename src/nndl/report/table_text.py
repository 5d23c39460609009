"""The cells and Markdown of the reports' tables, and one seed's runs of a task by implementation:
what every table module shares (nndl.report.tables, nndl.report.regression_tables)."""

from __future__ import annotations

from nndl.runs import names
from nndl.tasks.types import IMPLS, Task


def spread_text(mean: float, std: float | None = None, digits: int = 4) -> str:
    """A mean as a table cell, with its spread where it has one: '0.7350 ± 0.078', and '1.000' (not
    '1') beside it, so a column's numbers show the same significant digits (format '#': trailing zeros kept)."""
    return f"{mean:#.{digits}g}" + (f" ± {std:.2g}" if std is not None else "")


def number_text(value: float) -> str:
    """A measured or published number in a table: four decimals ('0.8279', '-3.2940'), or three
    significant digits below 0.001 ('4.9e-05'), where four decimals would say nothing."""
    return f"{value:.4f}" if value == 0 or abs(value) >= 0.001 else f"{value:.3g}"


def markdown_table(headers: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.6g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(header) for header in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def by_impl(task: Task, runs: dict[str, dict]) -> dict[str, dict]:
    """{'scratch': run, 'concise': run}: the task's runs among one seed's ({learner: run})."""
    return {impl: runs[names.learner(task.name, impl)] for impl in IMPLS}
