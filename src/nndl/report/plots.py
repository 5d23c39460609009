"""The figures: the notes' own (sample grid, training curves, prediction grid) and a few more.

Every function takes plain data (lists and dicts read from the pipeline's JSON files, or arrays)
and returns a matplotlib Figure; `save` writes it. Nothing here trains, tracks or reads MLflow.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # batch jobs have no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from nndl.files import atomic_path  # noqa: E402
from nndl.report.fonts import cjk_font  # noqa: E402

WRONG = "#c0392b"
RIGHT = "#1e6b35"
# Scratch and concise often coincide: hollow large markers under small filled ones keep both visible.
IMPL_STYLES = {"scratch": {"linestyle": "-", "marker": "o", "markersize": 9, "markerfacecolor": "none"},
               "concise": {"linestyle": "--", "marker": "s", "markersize": 4}}


def epoch_axis(ax) -> None:
    """Ticks at whole epochs: 1, 2, 3 for a three-epoch run, not 1.25, 1.50."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def use_fonts(language: str) -> None:
    """Put a CJK font first in line for Chinese labels; keep matplotlib's default otherwise."""
    families = ["DejaVu Sans"]
    if language == "zh" and (family := cjk_font()):
        families = [family, "DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = families
    plt.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack U+2212
    plt.rcParams["svg.hashsalt"] = "nndl"  # stable ids: same figure, same SVG
    plt.rcParams["figure.dpi"] = 100


def save(figure: Figure, stem: str | Path, formats: list[str]) -> list[Path]:
    """Write `figure` as stem.<format> for each format, atomically; close it; return the paths."""
    paths = []
    for fmt in formats:
        path = Path(f"{stem}.{fmt}")
        metadata = {"Date": None} if fmt in ("svg", "pdf") else {"Software": None}
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format=fmt, bbox_inches="tight", metadata=metadata)
        paths.append(path)
    plt.close(figure)
    return paths


def image_grid(images: np.ndarray, titles: list[str], rows: int, cols: int, scale: float = 1.5,
               title_colors: list[str] | None = None) -> Figure:
    """The notes' show_images: a rows x cols grid of 28 x 28 images with a title each."""
    # No ticks and a fixed layout: tight_layout over dozens of image axes is most of the drawing time.
    figure, axes = plt.subplots(rows, cols, figsize=(cols * scale, rows * scale * 1.25), squeeze=False,
                                subplot_kw={"xticks": [], "yticks": []},
                                gridspec_kw={"left": 0.01, "right": 0.99, "bottom": 0.01, "top": 0.88,
                                             "wspace": 0.08, "hspace": 0.45})
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= len(images):
            continue
        ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(titles[index], fontsize=9, color=(title_colors or ["black"] * len(titles))[index])
    return figure


def sample_grid(images: np.ndarray, labels: np.ndarray, class_names: list[str], title: str, rows: int = 2,
                cols: int = 9) -> Figure:
    count = rows * cols
    figure = image_grid(images[:count], [class_names[int(i)] for i in labels[:count]], rows, cols)
    figure.suptitle(title, y=1.02)
    return figure


def prediction_grid(predictions: dict, class_names: list[str], cols: int = 10) -> Figure:
    """First N test images titled 'true / predicted'; wrong predictions in red with a cross."""
    true, predicted = predictions["true"], predictions["predicted"]
    titles, colors = [], []
    for t, p in zip(true, predicted):
        wrong = t != p
        titles.append(f"{class_names[t]}\n{'× ' if wrong else ''}{class_names[p]}")
        colors.append(WRONG if wrong else RIGHT)
    images = np.asarray(predictions["images"], dtype=np.uint8)
    rows = -(-len(images) // cols)
    figure = image_grid(images, titles, rows, cols, title_colors=colors)
    for ax, color in zip(figure.axes, colors):  # a red frame around each wrong prediction
        if color == WRONG:
            ax.set_axis_on()
            for spine in ax.spines.values():
                spine.set_color(WRONG)
                spine.set_linewidth(2.5)
    errors = sum(t != p for t, p in zip(true, predicted))
    figure.suptitle(f"First {len(true)} test images: true (top) / predicted (bottom), "
                    f"{errors} wrong (red, ×)", y=1.02)
    return figure


def training_curves(history: dict, title: str) -> Figure:
    """The notes' chart as it ends: train loss, train accuracy and test accuracy per epoch."""
    epochs = [record["epoch"] for record in history["epochs"]]
    figure, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(epochs, [r["train/loss"] for r in history["epochs"]], "-", label="train loss")
    ax.plot(epochs, [r["train/accuracy"] for r in history["epochs"]], "m--", label="train acc")
    ax.plot(epochs, [r["test/accuracy"] for r in history["epochs"]], "g-.", label="test acc")
    ax.set_xlabel("epoch")
    ax.set_xlim(1, max(epochs[-1], 2))
    epoch_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    figure.tight_layout()
    return figure


def compare_curves(histories: dict[str, dict], title: str) -> Figure:
    """Scratch against concise: loss and accuracy per epoch, one line style per implementation."""
    figure, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    for impl, history in histories.items():
        epochs = [record["epoch"] for record in history["epochs"]]
        style = IMPL_STYLES[impl]
        for split, color in (("train", "C0"), ("test", "C2")):
            loss_ax.plot(epochs, [r[f"{split}/loss"] for r in history["epochs"]], color=color,
                         label=f"{impl} {split}", **style)
            accuracy_ax.plot(epochs, [r[f"{split}/accuracy"] for r in history["epochs"]], color=color,
                             label=f"{impl} {split}", **style)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    accuracy_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, accuracy_ax):
        epoch_axis(ax)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_matrix(metrics: dict, class_names: list[str], title: str) -> Figure:
    """Counts of (true, predicted) with the class names on both axes and the per-class accuracy."""
    matrix = np.asarray(metrics["confusion_matrix"])
    figure, ax = plt.subplots(figsize=(7.5, 6.5))
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="test images")
    accuracies = list(metrics["per_class_accuracy"].values())
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), [f"{name} ({accuracy:.0%})"
                                           for name, accuracy in zip(class_names, accuracies)])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (per-class accuracy)")
    ax.set_title(f"{title}: test accuracy {metrics['test/accuracy']:.3f}")
    figure.tight_layout()  # first: the numbers are sized for the cells as laid out
    size, threshold = _count_font_size(figure, ax, matrix), matrix.max() / 2
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=size,
                color="white" if count > threshold else "black")
    return figure


def _count_font_size(figure: Figure, ax, matrix: np.ndarray) -> float:
    """Points for the counts in a matrix's cells: the widest count fills about two thirds of a cell
    (a digit is about 0.6 em wide), at most 14 pt."""
    ax.apply_aspect()  # the cells are square: the box the layout gave shrinks to fit them
    cell_points = ax.get_position().width * figure.get_figwidth() * 72 / matrix.shape[1]
    digits = max(len(str(count)) for count in matrix.flat)
    return min(14.0, 0.65 * cell_points / (0.6 * max(digits, 2)))


def linreg_losses(histories: dict[str, dict]) -> Figure:
    """Training loss per epoch of both linear regressions, each labelled with what it measures."""
    labels = {"scratch": "scratch: squared loss (y\u0302 - y)\u00b2 / 2", "concise": "concise: nn.MSELoss (no 1/2)"}
    figure, ax = plt.subplots(figsize=(5.5, 3.5))
    for impl, history in histories.items():
        epochs = [record["epoch"] for record in history["epochs"]]
        ax.plot(epochs, [r["train/loss"] for r in history["epochs"]], label=labels[impl], **IMPL_STYLES[impl])
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="training loss (log scale)",
           title="Linear regression: loss over the training set after each epoch")
    epoch_axis(ax)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def regression_losses(histories: dict[str, dict], title: str) -> Figure:
    """Training and test loss per epoch of both implementations of a regression, on a log scale
    (d2l 4.4's and 4.5's figure): a gap between the two is overfitting, two high lines underfitting."""
    splits = {"train": "C0", "test": "C3"}
    what = {"scratch": "scratch, (y\u0302 - y)\u00b2 / 2", "concise": "concise, MSE (no 1/2)"}
    figure, ax = plt.subplots(figsize=(6, 3.8))
    for impl, history in histories.items():
        epochs = [record["epoch"] for record in history["epochs"]]
        for split, color in splits.items():
            ax.plot(epochs, [record[f"{split}/loss"] for record in history["epochs"]], color=color,
                    linestyle=IMPL_STYLES[impl]["linestyle"], label=f"{split} ({what[impl]})")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss (log scale)", title=title)
    epoch_axis(ax)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def linreg_trajectory(histories: dict[str, dict], true_w: list[float], true_b: float) -> Figure:
    """w and b after every SGD step, against the true values (dotted)."""
    names = [f"w{i + 1}" for i in range(len(true_w))] + ["b"]
    truth = [*true_w, true_b]
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    for impl, history in histories.items():
        trajectory = np.asarray(history["trajectory"])
        steps = np.arange(1, len(trajectory) + 1)
        for column, name in enumerate(names):
            ax.plot(steps, trajectory[:, column], color=f"C{column}", linestyle=IMPL_STYLES[impl]["linestyle"],
                    label=f"{name} ({impl})")
    for column, (name, value) in enumerate(zip(names, truth)):
        ax.axhline(value, color=f"C{column}", linestyle=":", linewidth=1)
        ax.annotate(f"true {name} = {value:g}", (1, value), xycoords=("axes fraction", "data"),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=8, color=f"C{column}")
    ax.set_xscale("log")
    ax.set(xlabel="SGD step (log scale)", ylabel="parameter value",
           title="Linear regression: parameters during training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="center right")
    figure.tight_layout()
    return figure
