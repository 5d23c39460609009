"""The summary report's sections: each heading with an anchor of its own, the contents that link
them, and its link to the studies report (which works beside it and inside Snakemake's report).

A heading is written as HTML with its anchor (a task's name, or a fixed word) rather than left to
nbconvert, which makes ids from the heading's words: the contents link what they name, however a
heading is worded.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from nndl.data import naming
from nndl.data.sources import FashionData, SyntheticData
from nndl.report import catalog
from nndl.tasks.registry import TASKS
from nndl.tasks.types import Task


@dataclass(frozen=True)
class Section:
    anchor: str  # the heading's id: the contents link to '#<anchor>'
    title: str


ENVIRONMENT = Section("environment", "Environment")
MLFLOW_RUNS = Section("mlflow-runs", "The MLflow runs")
STUDIES = Section("studies", "Studies")


def task_section(task: Task, data: SyntheticData | FashionData) -> Section:
    """A task's section: anchored by its name, titled by its heading and the data its runs trained on."""
    return Section(task.name, naming.titled(task.heading, data))


def samples_section(data: FashionData) -> Section:
    """The sample grid's section, titled by what the images are (nndl.report.catalog.samples)."""
    return Section("samples", catalog.samples(data).title)


def samples_before(task: Task, trained_on: dict[str, SyntheticData | FashionData]) -> bool:
    """Whether the sample grid's section comes just before `task`'s: the first task on the images
    of those trained ({task: data}, the registry's order)."""
    return task is next((entry for entry in TASKS.values() if entry.name in trained_on
                         and entry.data.images), None)


def all_seeds(count: int) -> Section:
    return Section("all-seeds", f"All {count} seeds")


def summary_sections(trained_on: dict[str, SyntheticData | FashionData], seeds: int,
                     studies: bool) -> list[Section]:
    """The summary report's sections in order: the environment; each task's that trained (the
    sample grid before the first task on images), named for the data its runs trained on ({task: data}); the MLflow
    runs; with several seeds, the statistics over them; with studies, the link to their report."""
    sections = [ENVIRONMENT]
    for task in (entry for entry in TASKS.values() if entry.name in trained_on):
        if samples_before(task, trained_on):
            sections.append(samples_section(trained_on[task.name]))
        sections.append(task_section(task, trained_on[task.name]))
    return [*sections, MLFLOW_RUNS, *([all_seeds(seeds)] if seeds > 1 else []), *([STUDIES] if studies else [])]


def heading(section: Section, level: int = 2) -> str:
    """The section's heading as HTML with its anchor (Markdown's '## ...' leaves the id to nbconvert)."""
    return f'<h{level} id="{section.anchor}">{html.escape(section.title)}</h{level}>'


def contents(sections: list[Section]) -> str:
    """The sections as a Markdown list of links to their headings."""
    return "\n".join(f"- [{section.title}](#{section.anchor})" for section in sections)


# Inside Snakemake's report (report.zip), each report item is the page data/raw/<its id>/<name>:
# a link between two of them is '../<id>/<name>' (snakemake.report_href); beside each other in
# results/report/ it is '<name>'. One page serves both, so the link is switched where it is opened.
_SWITCH = """<script>
if (/\\/data\\/raw\\/[^/]+\\/[^/]+$/.test(window.location.pathname)) {
  for (const link of document.querySelectorAll("a[data-report-href]")) link.href = link.dataset.reportHref;
}
</script>"""


def report_link(text: str, links: dict[str, str]) -> str:
    """An HTML link to another report: `links` {'beside': its path from this report's folder,
    'in_report': its link inside Snakemake's report}."""
    return (f'<a href="{html.escape(links["beside"])}" data-report-href="{html.escape(links["in_report"])}">'
            f"{html.escape(text)}</a>\n{_SWITCH}")
