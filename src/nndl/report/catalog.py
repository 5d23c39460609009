"""Every figure of the pipeline, declared once: its name, what it shows, which runs, its caption.

A task's figures come from the kinds its registry entry lists (`figures`), each kind's template
filled in with the task's name and heading: a task added to the registry gets its figures here.
The rules' outputs (workflow/rules/common.smk), the drawing code (nndl.report.figures), the MLflow
runs each figure goes into, the summary notebook's sections and Snakemake's report captions are all
made from these declarations. No matplotlib: the workflow imports this where it is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from nndl.data import naming
from nndl.files import write_text
from nndl.report.kinds import kind_problems
from nndl.runs import names
from nndl.tasks.runspec import RunSpec
from nndl.tasks.registry import TASKS
from nndl.data.sources import FashionData
from nndl.tasks.types import IMPLS, Task, refuse_entries


@dataclass(frozen=True)
class Figure:
    stem: str  # the file name without its format
    kind: str  # how it is drawn: a key of nndl.report.figures.DRAW
    title: str  # what it shows, as a heading
    runs: tuple[str, ...]  # the learners it shows ('softmax-scratch'): it goes into their MLflow runs
    caption: str  # a sentence or two under it, in the reports
    section: str  # the report section (Snakemake report category): its task's heading
    subsection: str | None = None  # Snakemake report subcategory
    width: int | None = None  # pixels in the summary notebook; None: as drawn


DATA, STUDIES = "Data", "Studies"


def learners(task: Task) -> tuple[str, ...]:
    """('softmax-scratch', 'softmax-concise'): the task's learners, in IMPLS's order."""
    return tuple(names.learner(task.name, impl) for impl in IMPLS)


def in_sentence(heading: str) -> str:
    """'softmax regression' from 'Softmax regression' (an acronym, 'MLP', stays as it is)."""
    return heading if heading[:2].isupper() else heading[:1].lower() + heading[1:]


# The sample grid of the images the classifiers train on. Its title and caption name the data as
# what it is, Fashion-MNIST or the generated stand-in: they are made by `samples`, from the runs' data.
SAMPLES = Figure("fashion-mnist-samples", "samples", "Samples of {data}",
                 tuple(learner for task in TASKS.values() if task.data.images for learner in learners(task)),
                 "The first 18 training images of {data} with their class names, as in the notes.{about}", DATA)


def images_of(runs: list[RunSpec]) -> FashionData | None:
    """The images the runs' classifiers train on: one copy, the same for every run of a config;
    None when no run trains on images (no sample grid then)."""
    return next((spec.data for spec in runs if spec.data.images), None)


def tasks_of(runs: Iterable[RunSpec]) -> list[Task]:
    """The tasks that `runs` train (a config's `tasks:`), in the registry's order."""
    present = {spec.task for spec in runs}
    return [task for task in TASKS.values() if task.name in present]


def samples(data: FashionData) -> Figure:
    """SAMPLES, its title and caption naming `data` as what it is."""
    what = f" {naming.about(data)}" if data.stand_in else ""
    return replace(SAMPLES, title=SAMPLES.title.format(data=naming.display_name(data)),
                   caption=SAMPLES.caption.format(data=naming.display_name(data), about=what))


def _per_impl(task: Task, kind: str, what: str, caption: str, subsection: str, width: int | None) -> tuple[Figure, ...]:
    """One figure of `kind` per implementation: '<task>-<impl>-<kind>', titled '<heading> (<impl>): <what>'."""
    return tuple(Figure(f"{task.name}-{impl}-{kind}", kind, f"{task.heading} ({impl}): {what}",
                        (names.learner(task.name, impl),), caption, task.heading, subsection, width)
                 for impl in IMPLS)


def _linreg_loss(task: Task) -> tuple[Figure, ...]:
    return (Figure(f"{task.name}-loss", "linreg_loss", f"{task.heading}: loss per epoch", learners(task),
                   "Training loss after each epoch of both linear regressions; the scratch loss has the 1/2 factor, "
                   "nn.MSELoss does not.", task.heading, width=520),)


def _linreg_trajectory(task: Task) -> tuple[Figure, ...]:
    return (Figure(f"{task.name}-trajectory", "linreg_trajectory", f"{task.heading}: parameters per step",
                   learners(task), "The weights and the bias after every SGD step, against their true values "
                   "(dotted).", task.heading, width=620),)


def _regression_losses(task: Task) -> tuple[Figure, ...]:
    return (Figure(f"{task.name}-losses", "regression_losses", f"{task.heading}: training and test loss per epoch",
                   learners(task), "Loss over the training and the test set after each epoch, both implementations "
                   "(the scratch loss has the 1/2 factor, nn.MSELoss does not): where the test loss stays above the "
                   "training loss, the model fits noise it cannot see again.", task.heading, width=560),)


def _curves(task: Task) -> tuple[Figure, ...]:
    return _per_impl(task, "curves", "training curves", "Training loss (mean over each epoch's minibatches), "
                     "training accuracy and test accuracy per epoch, one chart per implementation.", "Training", 460)


def _comparison(task: Task) -> tuple[Figure, ...]:
    return (Figure(f"{task.name}-comparison", "comparison", f"{task.heading}: from scratch vs concise",
                   learners(task), f"From-scratch and concise {in_sentence(task.heading)} side by side; {task.comparison_note}.",
                   task.heading,
                   "Training"),)


def _predictions(task: Task) -> tuple[Figure, ...]:
    return _per_impl(task, "predictions", "predictions", "The first test images titled with the true class (top) "
                     "and the prediction (bottom); wrong predictions are framed in red.", "Predictions", None)


def _confusion(task: Task) -> tuple[Figure, ...]:
    return _per_impl(task, "confusion", "confusion matrix", "Confusion matrix on the test set (rows: true class "
                     "with its accuracy, columns: predicted class).", "Predictions", 620)


# figure kind (what a task lists in its `figures`) -> that kind's figures of one task
TEMPLATES: dict[str, Callable[[Task], tuple[Figure, ...]]] = {
    "linreg_loss": _linreg_loss, "linreg_trajectory": _linreg_trajectory, "regression_losses": _regression_losses,
    "curves": _curves,
    "comparison": _comparison, "predictions": _predictions, "confusion": _confusion,
}


def task_figures(task: Task) -> tuple[Figure, ...]:
    """A task's figures of one seed: its `figures` kinds, in the order it lists them."""
    return tuple(figure for kind in task.figures for figure in TEMPLATES[kind](task))


# A misspelt kind stops the workflow here, where it is parsed, with the task and the kinds.
refuse_entries(kind_problems(TASKS.values(), "figure", lambda task: task.figures, TEMPLATES, "nndl.report.catalog.TEMPLATES"))
# A trajectory is drawn from the parameters a run's history holds only when its task records them.
refuse_entries([f"task {task.name!r}: figure kind 'linreg_trajectory' needs trajectory=True in its entry (its history "
                "then holds the parameters after every step)" for task in TASKS.values()
                if "linreg_trajectory" in task.figures and not task.trajectory])
# The figures of one seed of every task, in the order the summary notebook shows them: the registry's.
SEED_FIGURES = tuple(figure for task in TASKS.values() for figure in task_figures(task))


def seed_figures(tasks: Iterable[str]) -> tuple[Figure, ...]:
    """The figures of one seed of a config that trains `tasks` (names), in SEED_FIGURES's order."""
    chosen = set(tasks)
    return tuple(figure for task in TASKS.values() if task.name in chosen for figure in task_figures(task))


# The figures of each study, beside its summary.
STUDY_FIGURES = (
    Figure("metric", "study_metric", "The final metric against the varied setting", (),
           "The study's final metric against its first varied setting: the mean over seeds with a band of one "
           "standard deviation, a red x where runs diverged.", STUDIES, "{study}", width=560),
    Figure("curves", "study_curves", "Curves per grid point", (),
           "The mean training loss and test metric per epoch for each grid point of the study.", STUDIES, "{study}"),
)


def samples_stem() -> str:
    return f"{names.FIGURES_ROOT}/{SAMPLES.stem}"


def seed_stem(figure: Figure, seed: int | str) -> str:
    """'results/figures/seed-0/linreg-loss' (a stem: the formats are added)."""
    return f"{names.figure_dir(seed)}/{figure.stem}"


def study_stem(figure: Figure, study: str) -> str:
    return names.study_figure(study, figure.stem)


def figure_manifest(seed: int | str) -> str:
    """The manifest of one seed's figures: each figure's files and the runs it shows."""
    return f"{names.figure_dir(seed)}/{names.FIGURES_MANIFEST}"


def in_section(section: str) -> list[Figure]:
    return [figure for figure in SEED_FIGURES if figure.section == section]


def write_captions(folder: str | Path, images: FashionData | None) -> dict[str, str]:
    """Each figure's caption as the .rst file Snakemake's report wants ({stem: path}), the sample
    grid's naming `images` (the runs' images, images_of; None: no grid); a file is rewritten only
    when its text changed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for figure in ((samples(images),) if images else ()) + SEED_FIGURES + STUDY_FIGURES:
        path = folder / f"{figure.stem}.rst"
        if not path.is_file() or path.read_text(encoding="utf-8") != figure.caption + "\n":
            write_text(figure.caption + "\n", path)  # whole or not at all: Snakemake's report reads it
        paths[figure.stem] = str(path.resolve())
    return paths


def write_intro(template: str | Path, folder: str | Path, runs: list[RunSpec]) -> str:
    """Snakemake's report's intro: `template` (workflow/report/workflow.rst) with the config's
    tasks in place of its marker $tasks, each named for the data its runs train on (`runs`: every run
    of the config), as folder/workflow.rst; the file is rewritten only when its text changed."""
    from string import Template

    data = {spec.task: spec.data for spec in runs}
    tasks = "\n".join(f"- {naming.titled(task.heading, data[task.name])}" for task in tasks_of(runs))
    text = Template(Path(template).read_text(encoding="utf-8")).substitute(tasks=tasks)
    path = Path(folder) / "workflow.rst"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text(text, path)  # whole or not at all: Snakemake's report reads it
    return str(path.resolve())


def files_by_run(seed_manifests: dict[int, dict], specs_by_seed: dict[int, dict[str, RunSpec]],
                 samples: list[str]) -> dict[str, list[str]]:
    """{run folder: [figure files]}: each seed's figures go to the runs they show; the data's sample
    grid goes to the runs SAMPLES names, of every seed. `specs_by_seed`: {seed: {learner: spec}}."""
    files: dict[str, list[str]] = {}
    for seed, manifest in seed_manifests.items():
        folders = {learner: spec.dir for learner, spec in specs_by_seed[seed].items()}
        for figure in manifest["figures"].values():
            for learner in figure["runs"]:
                files.setdefault(folders[learner], []).extend(figure["files"])
        for learner in SAMPLES.runs:
            if learner in folders:  # a task the config trains
                files.setdefault(folders[learner], []).extend(samples)
    return files
