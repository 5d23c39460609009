"""Evaluation of a trained learner: the numbers the notes print, and a few more."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TextIO

import torch

from nndl import fashion_mnist
from nndl.datasets import load_task_data
from nndl.device import resolve_device
from nndl.files import write_json
from nndl.models import Learner, build_learner, n_outputs, predict_proba
from nndl.training import Split, evaluate


def closed_form(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least squares via the normal equations' stable cousin (lstsq), in float64: (w (d,), b)."""
    design = torch.cat([X.double(), torch.ones(len(X), 1, dtype=torch.float64, device=X.device)], dim=1)
    theta = torch.linalg.lstsq(design.cpu(), y.double().reshape(-1, 1).cpu()).solution.reshape(-1)
    return theta[:-1].float(), theta[-1:].float()


def parameter_errors(w: torch.Tensor, b: torch.Tensor, reference_w: torch.Tensor,
                     reference_b: torch.Tensor) -> dict[str, list[float] | float]:
    """reference - learned, as the notes print it, plus the largest absolute entry."""
    w_error = (reference_w.reshape(-1).cpu() - w.reshape(-1).cpu())
    b_error = (reference_b.reshape(-1).cpu() - b.reshape(-1).cpu())
    return {"w_error": w_error.tolist(), "b_error": b_error.tolist(),
            "max_abs_w_error": w_error.abs().max().item(), "abs_b_error": b_error.abs().max().item()}


@torch.no_grad()
def regression_report(learner: Learner, train: Split, test: Split, true_w: torch.Tensor,
                      true_b: torch.Tensor) -> dict:
    W, b = learner.weight_and_bias()
    closed_w, closed_b = closed_form(train.X, train.y)
    test_mse = ((learner.forward(test.X) - test.y) ** 2).mean().item()
    return {
        "train/loss": evaluate(learner, train, classify=False)["loss"],
        "test/loss": evaluate(learner, test, classify=False)["loss"],
        "test/mse": test_mse,
        "learned": {"w": W.reshape(-1).tolist(), "b": b.reshape(-1).tolist()},
        "truth": {"w": true_w.tolist(), "b": true_b.tolist()},
        "closed_form": {"w": closed_w.tolist(), "b": closed_b.tolist()},
        "vs_truth": parameter_errors(W, b, true_w, true_b),
        "vs_closed_form": parameter_errors(W, b, closed_w, closed_b),
        "closed_form_vs_truth": parameter_errors(closed_w, closed_b, true_w, true_b),
    }


@torch.no_grad()
def classification_report(learner: Learner, test: Split, class_names: list[str], n_predictions: int,
                          images_uint8: torch.Tensor) -> tuple[dict, dict]:
    """(metrics, predictions): accuracy, loss, per-class accuracy, confusion matrix; first N predictions."""
    num_classes = len(class_names)
    output = torch.cat([learner.forward(test.X[i:i + 8192]) for i in range(0, len(test), 8192)])
    predicted = output.argmax(dim=1)
    # confusion[true, predicted] = count
    confusion = torch.bincount(test.y * num_classes + predicted, minlength=num_classes ** 2)
    confusion = confusion.reshape(num_classes, num_classes).cpu()
    per_class = (confusion.diag().double() / confusion.sum(dim=1).clamp(min=1).double()).tolist()
    summary = evaluate(learner, test, classify=True)
    metrics = {
        "test/loss": summary["loss"],
        "test/accuracy": summary["accuracy"],
        "per_class_accuracy": dict(zip(class_names, per_class)),
        "confusion_matrix": confusion.tolist(),
        "class_names": class_names,
    }
    n = min(n_predictions, len(test))
    probabilities = predict_proba(output[:n])
    predictions = {
        "class_names": class_names,
        "true": test.y[:n].tolist(),
        "predicted": predicted[:n].tolist(),
        "confidence": probabilities.max(dim=1).values.tolist(),
        "images": images_uint8[:n].tolist(),  # (n, 28, 28) uint8, for the prediction grid
    }
    return metrics, predictions


def _metric_name(index: int, name: str) -> str:
    return f"test/class_accuracy/{index}-" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def evaluate_run(config: dict, task: str, impl: str, data_path: str | Path, model_path: str | Path,
                 run_id_path: str | Path, metrics_path: str | Path, predictions_path: str | Path,
                 threads: int, log: TextIO = sys.stderr) -> dict:
    """Evaluate saved weights; write metrics.json (with a flat `summary` for MLflow) and predictions.

    Needs no MLflow: the log_results job puts these into the training's run, once per seed.
    """
    device = resolve_device(config["device"])
    torch.set_num_threads(threads)
    train_split, test_split, extras = load_task_data(task, data_path, device)
    learner = build_learner(task, impl, train_split.X[0].numel(), n_outputs(task), 1.0, 0.0,
                            torch.Generator(), device, trainable=False)
    learner.load_state_dict(torch.load(model_path, map_location=device, weights_only=True))
    n_predictions = min(config["evaluation"]["n_predictions"], len(test_split))
    flat: dict[str, float]
    if task == "linreg":
        metrics = regression_report(learner, train_split, test_split, extras["true_w"], extras["true_b"])
        flat = {"final/train_loss": metrics["train/loss"], "final/test_loss": metrics["test/loss"],
                "final/test_mse": metrics["test/mse"],
                "final/max_abs_w_error": metrics["vs_truth"]["max_abs_w_error"],
                "final/abs_b_error": metrics["vs_truth"]["abs_b_error"],
                "final/max_abs_w_error_vs_closed_form": metrics["vs_closed_form"]["max_abs_w_error"],
                "final/abs_b_error_vs_closed_form": metrics["vs_closed_form"]["abs_b_error"]}
        with torch.no_grad():
            predicted = learner.forward(test_split.X[:n_predictions])
        predictions = {"X": test_split.X[:n_predictions].tolist(),
                       "true": test_split.y[:n_predictions].reshape(-1).tolist(),
                       "predicted": predicted.reshape(-1).tolist()}
    else:
        images = (test_split.X[:n_predictions] * 255).round().to(torch.uint8)
        metrics, predictions = classification_report(learner, test_split, fashion_mnist.CLASS_NAMES["en"],
                                                      n_predictions, images)
        flat = {"final/test_loss": metrics["test/loss"], "final/test_accuracy": metrics["test/accuracy"],
                **{_metric_name(i, name): value
                   for i, (name, value) in enumerate(metrics["per_class_accuracy"].items())}}
    metrics.update({"task": task, "impl": impl, "run_id": Path(run_id_path).read_text().strip(),
                    "summary": flat})
    for key, value in flat.items():
        print(f"  {key}: {value:.6g}", file=log)
    write_json(metrics, metrics_path)
    write_json(predictions, predictions_path)
    return metrics
