"""The tables of a regression's report section (the kinds its registry entry lists in `tables`):
its losses per epoch, its parameters against the truth and the least-squares solution, its final fit."""

from __future__ import annotations

from nndl.report.table_text import by_impl, markdown_table
from nndl.tasks.types import IMPLS, Task


def linreg_epoch_table(task: Task, runs: dict[str, dict]) -> str:
    scratch, concise = (run["history"]["epochs"] for run in by_impl(task, runs).values())
    rows = [[a["epoch"], f"{a['train/loss']:.6f}", f"{b['train/loss']:.6f}"] for a, b in zip(scratch, concise)]
    return ("Loss over the training set after each epoch:\n\n"
            + markdown_table(["epoch", "scratch loss (with 1/2)", "concise loss (MSE, no 1/2)"], rows))


def _vector(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def linreg_error_table(task: Task, runs: dict[str, dict]) -> str:
    rows = []
    for impl, run in by_impl(task, runs).items():
        metrics = run["metrics"]
        rows.append([impl, _vector(metrics["learned"]["w"]), _vector(metrics["learned"]["b"]),
                     _vector(metrics["vs_truth"]["w_error"]), _vector(metrics["vs_truth"]["b_error"]),
                     _vector(metrics["vs_closed_form"]["w_error"]), _vector(metrics["vs_closed_form"]["b_error"])])
    closed = by_impl(task, runs)[IMPLS[0]]["metrics"]  # the same data: either run's closed form
    rows.append(["closed form (least squares)", _vector(closed["closed_form"]["w"]),
                 _vector(closed["closed_form"]["b"]), _vector(closed["closed_form_vs_truth"]["w_error"]),
                 _vector(closed["closed_form_vs_truth"]["b_error"]), "-", "-"])
    return ("Estimation errors, as the notes print them (true minus learned), and the distance to the closed-form "
            "least-squares solution, the best any linear model can do on these samples:\n\n"
            + markdown_table(["", "w", "b", "w error (true - w)", "b error (true - b)",
                              "w - closed form", "b - closed form"], rows))


def regression_final_table(task: Task, runs: dict[str, dict]) -> str:
    """A regression's final fit per implementation: losses over both splits, the test MSE (the
    same measure for both, whatever the loss), ||w||, and the loss before training."""
    rows = [[impl, *(f"{run['metrics'][metric]:.6g}" for metric in ("train/loss", "test/loss", "test/mse")),
             f"{run['metrics']['summary'].get('final/weight_norm', float('nan')):.4g}",
             f"{run['history']['untrained']['untrained/test_loss']:.6g}"]
            for impl, run in by_impl(task, runs).items()]
    return ("Final numbers (losses as each implementation measures them: the scratch loss has the 1/2 factor, "
            "nn.MSELoss does not; the test MSE is the same measure for both):\n\n"
            + markdown_table(["", "train loss", "test loss", "test MSE", "‖w‖", "untrained test loss"], rows))


def weights_table(task: Task, runs: dict[str, dict]) -> str:
    """A regression's learned parameters one per row, beside the truth and the least-squares
    solution on the same training data (a polynomial's coefficients: what each degree learned)."""
    runs_of = by_impl(task, runs)
    first = runs_of[IMPLS[0]]["metrics"]
    names = ["b", *(f"w{index}" for index in range(1, len(first["truth"]["w"]) + 1))]

    def column(parameters: dict) -> list[float]:
        return [*parameters["b"], *parameters["w"]]

    columns = [column(first["truth"]), *(column(run["metrics"]["learned"]) for run in runs_of.values()),
               column(first["closed_form"])]
    rows = [[name, *(f"{values[row]:.4f}" for values in columns)] for row, name in enumerate(names)]
    return ("The learned parameters (b the bias, w1, w2, ... the weights in input order), beside the truth and "
            "the least-squares solution on the same training data (the best this model can fit them):\n\n"
            + markdown_table(["", "true", *IMPLS, "least squares"], rows))
