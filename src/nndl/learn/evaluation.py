"""Evaluation of a trained learner: the numbers the notes print, and a few more."""

from __future__ import annotations

import re

import torch

from nndl.data.fashion_mnist import CLASS_NAMES
from nndl.data.tensors import Split
from nndl.learn.learners import Learner, predict_proba
from nndl.learn.loop import evaluate, predict
from nndl.tasks.finals import declared_summary
from nndl.tasks.types import REGRESSION, Task


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
                      true_b: torch.Tensor, n_predictions: int) -> tuple[dict, dict]:
    """(metrics, predictions): losses, test MSE, w and b against the truth and the closed form;
    the first N test predictions."""
    W, b = learner.weight_and_bias()
    closed_w, closed_b = closed_form(train.X, train.y)
    test_output, test_summary = predict(learner, test, classify=False)
    metrics = {
        "train/loss": evaluate(learner, train, classify=False)["loss"],
        "test/loss": test_summary["loss"],
        "test/mse": ((test_output - test.y) ** 2).mean().item(),
        "learned": {"w": W.reshape(-1).tolist(), "b": b.reshape(-1).tolist()},
        "truth": {"w": true_w.tolist(), "b": true_b.tolist()},
        "closed_form": {"w": closed_w.tolist(), "b": closed_b.tolist()},
        "vs_truth": parameter_errors(W, b, true_w, true_b),
        "vs_closed_form": parameter_errors(W, b, closed_w, closed_b),
        "closed_form_vs_truth": parameter_errors(closed_w, closed_b, true_w, true_b),
    }
    n = min(n_predictions, len(test))
    predictions = {"X": test.X[:n].tolist(), "true": test.y[:n].reshape(-1).tolist(),
                   "predicted": test_output[:n].reshape(-1).tolist()}
    return metrics, predictions


@torch.no_grad()
def classification_report(learner: Learner, test: Split, class_names: list[str], n_predictions: int,
                          images_uint8: torch.Tensor) -> tuple[dict, dict]:
    """(metrics, predictions): accuracy, loss, per-class accuracy, confusion matrix; first N predictions."""
    num_classes = len(class_names)
    output, summary = predict(learner, test, classify=True)
    predicted = output.argmax(dim=1)
    # confusion[true, predicted] = count
    confusion = torch.bincount(test.y * num_classes + predicted, minlength=num_classes ** 2)
    confusion = confusion.reshape(num_classes, num_classes).cpu()
    per_class = (confusion.diag().double() / confusion.sum(dim=1).clamp(min=1).double()).tolist()
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


def weight_norm(learner: Learner) -> float:
    """||w||: the L2 norm of every layer's weights together, biases left out (what weight decay shrinks)."""
    return torch.sqrt(sum((W.double() ** 2).sum() for W, _ in learner.layers())).item()


def evaluate_learner(task: Task, learner: Learner, train: Split, test: Split, extras: dict,
                     n_predictions: int) -> tuple[dict, dict]:
    """(metrics, predictions) of a trained learner. The loss family says what can be measured (a
    regression's fit against the truth, a classifier's accuracy per class); metrics carry a flat
    `summary` for MLflow: the final metrics the task declares (nndl.tasks.finals.MEASURED), then the
    details (the errors against the closed form, or each class's accuracy)."""
    if task.loss == REGRESSION:
        metrics, predictions = regression_report(learner, train, test, extras["true_w"], extras["true_b"],
                                                 n_predictions)
        measured = {key: metrics[key] for key in ("train/loss", "test/loss", "test/mse")}
        measured |= {key: metrics["vs_truth"][key] for key in ("max_abs_w_error", "abs_b_error")}
        details = {f"final/{key}_vs_closed_form": metrics["vs_closed_form"][key]
                   for key in ("max_abs_w_error", "abs_b_error")}
    else:
        images = (test.X[:n_predictions] * extras["pixels_per_unit"]).round().clamp(0, 255).to(torch.uint8)
        metrics, predictions = classification_report(learner, test, CLASS_NAMES["en"], n_predictions, images)
        measured = {key: metrics[key] for key in ("test/loss", "test/accuracy")}
        details = {_metric_name(i, name): value for i, (name, value) in enumerate(metrics["per_class_accuracy"].items())}
    measured["weight_norm"] = weight_norm(learner)
    metrics["summary"] = {**declared_summary(task, measured), **details}
    return metrics, predictions
