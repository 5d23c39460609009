"""The names of things, defined once: tasks, implementations, runs, their folders and files, figures.

Everything that names a run or a figure imports it from here: the rules (workflow/rules/common.smk),
the chunk jobs, the figures, the MLflow logging and the report. No torch, no MLflow: Snakemake
imports this while it parses the workflow.
"""

from __future__ import annotations

TASKS = ("linreg", "softmax")
IMPLS = ("scratch", "concise")
TASK_TITLES = {"linreg": "Linear regression on synthetic data", "softmax": "Softmax regression on Fashion-MNIST"}
# Where `mlflow ui` serves, started in the project root with its defaults.
MLFLOW_UI = "http://127.0.0.1:5000"
DATA_MANIFEST = "manifest.json"  # beside the four Fashion-MNIST files: where each came from, checksums

ENV_JSON = "results/env.json"
RUNS_ROOT = "results/runs"
CHUNK_MANIFEST = "results/chunks/{group}-{part}-of-{parts}.json"
FIGURES_ROOT = "results/figures"
SAMPLES_STEM = f"{FIGURES_ROOT}/fashion-mnist-samples"
SYNTHETIC_DATA = "resources/synthetic/linreg-{digest}.npz"  # one per distinct synthetic: block
SYNTHETIC_DESCRIPTION = "resources/synthetic/linreg-{digest}.json"
STUDIES_ROOT = "results/studies"
STUDY_SUMMARY = "results/studies/{study}/summary.json"  # its table, answer and figure files
STUDY_FIGURES = ("metric", "curves")  # per study: final metric against the setting; curves per setting
STUDIES_REPORT = "results/report/studies.html"
LOGGED_STUDIES = "results/tracking/studies.json"  # which study summary went into which parent run
CHUNK_GROUP_STUDY = "study-{study}"  # a study's chunks; the default runs' chunks are named by task
TRACKED_RUNS = "results/tracking/runs.json"  # the pipeline's runs as MLflow has them
LOGGED_FIGURES = "results/tracking/figures.json"  # which figure went into which run
FIGURES_MANIFEST = "figures.json"  # in each seed's figure folder: files, owners, drawing time

# The files of one run folder. COMPLETE is written last: a run is complete when it holds the hash
# of the run's spec and of the training code (nndl.chunks).
MODEL, HISTORY, METRICS, PREDICTIONS, COMPLETE = (
    "model.pt", "history.json", "metrics.json", "predictions.json", "complete.json")
RUN_FILES = (MODEL, HISTORY, METRICS, PREDICTIONS, COMPLETE)

# The figures of one seed: stem -> the runs ('softmax-scratch', ...) each belongs to in MLflow.
SEED_FIGURES: dict[str, tuple[str, ...]] = {
    **{f"softmax-{impl}-curves": (f"softmax-{impl}",) for impl in IMPLS},
    "softmax-comparison": tuple(f"softmax-{impl}" for impl in IMPLS),
    **{f"softmax-{impl}-predictions": (f"softmax-{impl}",) for impl in IMPLS},
    **{f"softmax-{impl}-confusion": (f"softmax-{impl}",) for impl in IMPLS},
    "linreg-loss": tuple(f"linreg-{impl}" for impl in IMPLS),
    "linreg-trajectory": tuple(f"linreg-{impl}" for impl in IMPLS),
}
SAMPLES_OWNERS = tuple(f"softmax-{impl}" for impl in IMPLS)


def run_key(task: str, impl: str) -> str:
    """'softmax-scratch': one learner, whatever the seed."""
    return f"{task}-{impl}"


def run_name(task: str, impl: str, seed: int) -> str:
    """The MLflow run name: 'softmax-scratch-seed0'."""
    return f"{task}-{impl}-seed{seed}"


def run_dir(task: str, impl: str, seed: int) -> str:
    return f"{RUNS_ROOT}/{task}-{impl}/seed-{seed}"


def study_figure(study: str, figure: str) -> str:
    """'results/studies/linreg-lr/metric' (a stem: the formats are added)."""
    return f"{STUDIES_ROOT}/{study}/{figure}"


def study_run_name(study: str, task: str, impl: str, point: str, seed: int) -> str:
    """'linreg-lr/linreg-scratch/learning_rate=0.1/seed0': unique across studies, like its folder."""
    return f"{study}/{task}-{impl}/{point}/seed{seed}"


def study_run_dir(study: str, task: str, impl: str, point: str, seed: int) -> str:
    return f"{STUDIES_ROOT}/{study}/runs/{task}-{impl}/{point.replace('/', '_')}/seed-{seed}"


# What a study can compare, per task: metric -> which way is better. The first is the default.
STUDY_METRICS = {
    "linreg": {"final/test_mse": "min", "final/max_abs_w_error": "min", "final/abs_b_error": "min",
               "final/train_loss": "min", "final/test_loss": "min", "train_seconds": "min"},
    "softmax": {"final/test_accuracy": "max", "final/test_loss": "min", "final/train_loss": "min",
                "final/train_accuracy": "max", "train_seconds": "min"},
}


def figure_dir(seed: int) -> str:
    return f"{FIGURES_ROOT}/seed-{seed}"


def seed_runs(seed: int) -> dict[str, str]:
    """{'linreg-scratch': 'results/runs/linreg-scratch/seed-0', ...}: the four runs of one seed."""
    return {run_key(task, impl): run_dir(task, impl, seed) for task in TASKS for impl in IMPLS}
