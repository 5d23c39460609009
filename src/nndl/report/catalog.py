"""Every figure of the pipeline, declared once: its name, what it shows, which runs, its caption.

The rules' outputs (workflow/rules/common.smk), the drawing code (nndl.report.figures), the MLflow
runs each figure goes into, the summary notebook's sections and Snakemake's report captions are all
made from these declarations. No matplotlib: the workflow imports this where it is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nndl.learn.tasks import IMPLS
from nndl.runs import names


@dataclass(frozen=True)
class Figure:
    stem: str  # the file name without its format
    kind: str  # how it is drawn: a key of nndl.report.figures.DRAW
    title: str  # what it shows, as a heading
    runs: tuple[str, ...]  # the learners it shows ('softmax-scratch'): it goes into their MLflow runs
    caption: str  # a sentence or two under it, in the reports
    section: str  # the report section (Snakemake report category)
    subsection: str | None = None  # Snakemake report subcategory
    width: int | None = None  # pixels in the summary notebook; None: as drawn


LINREG, SOFTMAX, DATA, STUDIES = "Linear regression", "Softmax regression", "Data", "Studies"
_SOFTMAX_RUNS = tuple(names.run_key("softmax", impl) for impl in IMPLS)
_LINREG_RUNS = tuple(names.run_key("linreg", impl) for impl in IMPLS)

SAMPLES = Figure("fashion-mnist-samples", "samples", "Fashion-MNIST samples", _SOFTMAX_RUNS,
                 "The first 18 Fashion-MNIST training images with their class names, as in the notes.", DATA)

# The figures of one seed, in the order the summary notebook shows them.
SEED_FIGURES = (
    Figure("linreg-loss", "linreg_loss", "Linear regression: loss per epoch", _LINREG_RUNS,
           "Training loss after each epoch of both linear regressions; the scratch loss has the 1/2 factor, "
           "nn.MSELoss does not.", LINREG, width=520),
    Figure("linreg-trajectory", "linreg_trajectory", "Linear regression: parameters per step", _LINREG_RUNS,
           "The weights and the bias after every SGD step, against their true values (dotted).", LINREG, width=620),
    *(Figure(f"softmax-{impl}-curves", "curves", f"Softmax regression ({impl}): training curves",
             (names.run_key("softmax", impl),), "Training loss (mean over each epoch's minibatches), training accuracy and test "
             "accuracy per epoch, one chart per implementation.", SOFTMAX, "Training", width=460) for impl in IMPLS),
    Figure("softmax-comparison", "comparison", "Softmax regression: from scratch vs concise", _SOFTMAX_RUNS,
           "From-scratch and concise softmax regression side by side; they start from the same weights and see "
           "the same minibatches, so their lines coincide.", SOFTMAX, "Training"),
    *(Figure(f"softmax-{impl}-predictions", "predictions", f"Softmax regression ({impl}): predictions",
             (names.run_key("softmax", impl),), "The first test images titled with the true class (top) and the prediction "
             "(bottom); wrong predictions are framed in red.", SOFTMAX, "Predictions") for impl in IMPLS),
    *(Figure(f"softmax-{impl}-confusion", "confusion", f"Softmax regression ({impl}): confusion matrix",
             (names.run_key("softmax", impl),), "Confusion matrix on the test set (rows: true class with its accuracy, "
             "columns: predicted class).", SOFTMAX, "Predictions", width=620) for impl in IMPLS),
)

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


def write_captions(folder: str | Path) -> dict[str, str]:
    """Each figure's caption as the .rst file Snakemake's report wants ({stem: path}); a file is
    rewritten only when its text changed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for figure in (SAMPLES, *SEED_FIGURES, *STUDY_FIGURES):
        path = folder / f"{figure.stem}.rst"
        if not path.is_file() or path.read_text(encoding="utf-8") != figure.caption + "\n":
            path.write_text(figure.caption + "\n", encoding="utf-8")
        paths[figure.stem] = str(path.resolve())
    return paths


def files_by_run(seed_manifests: dict[int, dict], specs_by_seed: dict[int, dict[str, dict]],
                 samples: list[str]) -> dict[str, list[str]]:
    """{run folder: [figure files]}: each seed's figures go to the runs they show; the data's sample
    grid goes to the runs SAMPLES names, of every seed."""
    files: dict[str, list[str]] = {}
    for seed, manifest in seed_manifests.items():
        folders = {key: spec["dir"] for key, spec in specs_by_seed[seed].items()}
        for figure in manifest["figures"].values():
            for key in figure["runs"]:
                files.setdefault(folders[key], []).extend(figure["files"])
        for key in SAMPLES.runs:
            files.setdefault(folders[key], []).extend(samples)
    return files
