"""Draw the figures that nndl.report.catalog declares, from the pipeline's saved JSON files (no
training, no MLflow)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from nndl.data.fashion_mnist import CLASS_NAMES, load_split
from nndl.data.sources import FashionData
from nndl.report import catalog, plots
from nndl.report.fonts import label_language
from nndl.runs import names, outputs
from nndl.tasks.runspec import RunSpec


class SeedRuns:
    """The default runs of one seed as the drawing code reads them: history, metrics, predictions."""

    def __init__(self, specs: dict[str, RunSpec], class_names: list[str]):
        self.specs = specs  # {learner: spec}
        self.folders = {learner: Path(spec.dir) for learner, spec in specs.items()}
        self.class_names = class_names
        self.histories = {learner: outputs.read_history(folder) for learner, folder in self.folders.items()}

    def metrics(self, learner: str) -> dict:
        return outputs.read_metrics(self.folders[learner])

    def predictions(self, learner: str) -> dict:
        return outputs.read_predictions(self.folders[learner])


def _heading(runs: SeedRuns, figure: catalog.Figure) -> str:
    """'Softmax regression (scratch)': the task and implementation of a figure's first run."""
    spec = runs.specs[figure.runs[0]]
    return f"{spec.definition.heading} ({spec.impl})"


def _by_impl(runs: SeedRuns, figure: catalog.Figure) -> dict[str, dict]:
    """{'scratch': history, 'concise': history} of the runs a figure shows."""
    return {runs.specs[learner].impl: runs.histories[learner] for learner in figure.runs}


def _linreg_trajectory(runs: SeedRuns, figure: catalog.Figure):
    truth = runs.specs[figure.runs[0]].data.settings  # the synthetic data's true w and b
    return plots.linreg_trajectory(_by_impl(runs, figure), truth.true_w, truth.true_b)


# kind -> how a figure of that kind is drawn from its runs
DRAW: dict[str, Callable[[SeedRuns, catalog.Figure], object]] = {
    "curves": lambda runs, figure: plots.training_curves(runs.histories[figure.runs[0]], _heading(runs, figure)),
    "comparison": lambda runs, figure: plots.compare_curves(_by_impl(runs, figure), figure.title),
    "predictions": lambda runs, figure: plots.prediction_grid(runs.predictions(figure.runs[0]), runs.class_names),
    "confusion": lambda runs, figure: plots.confusion_matrix(runs.metrics(figure.runs[0]), runs.class_names,
                                                             _heading(runs, figure)),
    "linreg_loss": lambda runs, figure: plots.linreg_losses(_by_impl(runs, figure)),
    "linreg_trajectory": _linreg_trajectory,
    "regression_losses": lambda runs, figure: plots.regression_losses(_by_impl(runs, figure), figure.title),
}


def class_names(language: str) -> list[str]:
    return CLASS_NAMES[label_language(language)]


def draw_samples(data: FashionData, stem: str | Path, language: str, formats: list[str]) -> list[Path]:
    """The notes' figure: the first 18 training images of `data` in a 2 x 9 grid, titled with their
    class, under the title that names the data as what it is (catalog.samples)."""
    plots.use_fonts(label_language(language))
    images, labels = load_split(data.path, "train")
    return plots.save(plots.sample_grid(images, labels, class_names(language), catalog.samples(data).title),
                      stem, formats)


def draw_seed(specs: list[RunSpec], seed: int, language: str, formats: list[str]) -> dict:
    """Every figure of one seed (catalog.seed_figures of its tasks) from its runs' files; `specs` are the seed's
    default runs, one per learner. Returns the seed's figure manifest: each figure's files and the
    runs it shows, and the seconds spent drawing."""
    started = time.perf_counter()
    plots.use_fonts(label_language(language))
    runs = SeedRuns({names.learner(spec.task, spec.impl): spec for spec in specs}, class_names(language))
    figures = {}
    for figure in catalog.seed_figures(task.name for task in catalog.tasks_of(specs)):
        drawn = DRAW[figure.kind](runs, figure)
        files = plots.save(drawn, catalog.seed_stem(figure, seed), formats)
        figures[figure.stem] = {"files": [str(path) for path in files], "runs": list(figure.runs)}
    return {"figures": figures, "seconds": time.perf_counter() - started}
