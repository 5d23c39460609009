"""Draw every figure of one seed from the pipeline's saved JSON files (no training, no MLflow)."""

from __future__ import annotations

from pathlib import Path

from nndl import plots
from nndl.fashion_mnist import CLASS_NAMES, load_split
from nndl.files import read_json
from nndl.fonts import label_language

IMPLS = ("scratch", "concise")


def class_names(language: str) -> list[str]:
    return CLASS_NAMES[label_language(language)]


def draw_samples(data_folder: str | Path, stem: str | Path, language: str, formats: list[str]) -> list[Path]:
    """The notes' figure: the first 18 training images in a 2 x 9 grid, titled with their class."""
    plots.use_fonts(label_language(language))
    images, labels = load_split(data_folder, "train")
    return plots.save(plots.sample_grid(images, labels, class_names(language)), stem, formats)


def draw_seed(run_folders: dict[str, Path], out_folder: str | Path, language: str,
              formats: list[str]) -> list[Path]:
    """All figures of one seed. `run_folders` maps 'softmax-scratch' etc. to the run's folder.

    Writes softmax-{impl}-{curves,predictions,confusion}, softmax-comparison, linreg-loss and
    linreg-trajectory in each of `formats` (workflow/rules/common.smk lists the same names).
    """
    language = label_language(language)
    plots.use_fonts(language)
    names = class_names(language)
    out_folder = Path(out_folder)
    history = {run: read_json(folder / "history.json") for run, folder in run_folders.items()}
    written: list[Path] = []

    def save(figure, stem):
        written.extend(plots.save(figure, out_folder / stem, formats))

    for impl in IMPLS:
        run = f"softmax-{impl}"
        save(plots.training_curves(history[run], f"Softmax regression ({impl})"), f"{run}-curves")
    save(plots.compare_curves({impl: history[f"softmax-{impl}"] for impl in IMPLS},
                              "Softmax regression: from scratch vs concise"), "softmax-comparison")
    for impl in IMPLS:
        run = f"softmax-{impl}"
        predictions = read_json(run_folders[run] / "predictions.json")
        save(plots.prediction_grid(predictions, names), f"{run}-predictions")
    for impl in IMPLS:
        run = f"softmax-{impl}"
        metrics = read_json(run_folders[run] / "metrics.json")
        save(plots.confusion_matrix(metrics, names, f"Softmax regression ({impl})"), f"{run}-confusion")
    linreg = {impl: history[f"linreg-{impl}"] for impl in IMPLS}
    save(plots.linreg_losses(linreg), "linreg-loss")
    truth = linreg["scratch"]["settings"]["data"]
    save(plots.linreg_trajectory(linreg, truth["true_w"], truth["true_b"]), "linreg-trajectory")
    return written
