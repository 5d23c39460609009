"""Draw every figure of one seed from the pipeline's saved JSON files (no training, no MLflow)."""

from __future__ import annotations

import time
from pathlib import Path

from nndl import layout, plots
from nndl.fashion_mnist import CLASS_NAMES, load_split
from nndl.files import read_json
from nndl.fonts import label_language


def class_names(language: str) -> list[str]:
    return CLASS_NAMES[label_language(language)]


def draw_samples(data_folder: str | Path, stem: str | Path, language: str, formats: list[str]) -> list[Path]:
    """The notes' figure: the first 18 training images in a 2 x 9 grid, titled with their class."""
    plots.use_fonts(label_language(language))
    images, labels = load_split(data_folder, "train")
    return plots.save(plots.sample_grid(images, labels, class_names(language)), stem, formats)


def draw_seed(run_folders: dict[str, str | Path], out_folder: str | Path, language: str,
              formats: list[str]) -> dict:
    """All figures of one seed (nndl.layout.SEED_FIGURES names them) from its runs' JSON files.

    `run_folders` maps 'softmax-scratch' etc. to the run's folder. Returns the seed's figure
    manifest: each figure's files, the runs it belongs to, and the seconds spent drawing.
    """
    started = time.perf_counter()
    language = label_language(language)
    plots.use_fonts(language)
    names = class_names(language)
    out_folder = Path(out_folder)
    folders = {run: Path(folder) for run, folder in run_folders.items()}
    history = {run: read_json(folder / layout.HISTORY) for run, folder in folders.items()}
    drawn = {}
    for impl in layout.IMPLS:
        run = layout.run_key("softmax", impl)
        drawn[f"{run}-curves"] = plots.training_curves(history[run], f"Softmax regression ({impl})")
        drawn[f"{run}-predictions"] = plots.prediction_grid(read_json(folders[run] / layout.PREDICTIONS), names)
        drawn[f"{run}-confusion"] = plots.confusion_matrix(read_json(folders[run] / layout.METRICS), names,
                                                           f"Softmax regression ({impl})")
    drawn["softmax-comparison"] = plots.compare_curves(
        {impl: history[layout.run_key("softmax", impl)] for impl in layout.IMPLS},
        "Softmax regression: from scratch vs concise")
    linreg = {impl: history[layout.run_key("linreg", impl)] for impl in layout.IMPLS}
    truth = linreg["scratch"]["settings"]["data"]
    drawn["linreg-loss"] = plots.linreg_losses(linreg)
    drawn["linreg-trajectory"] = plots.linreg_trajectory(linreg, truth["true_w"], truth["true_b"])
    figures = {stem: {"files": [str(path) for path in plots.save(drawn[stem], out_folder / stem, formats)],
                      "runs": list(owners)}
               for stem, owners in layout.SEED_FIGURES.items()}
    return {"figures": figures, "run_folders": {run: str(folder) for run, folder in folders.items()},
            "seconds": time.perf_counter() - started}
