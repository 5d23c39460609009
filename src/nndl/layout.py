"""The names of things, defined once: tasks, implementations, runs, their folders and files, figures.

Everything that names a run or a figure imports it from here: the rules (workflow/rules/common.smk),
the chunk jobs, the figures, the MLflow logging and the report. No torch, no MLflow: Snakemake
imports this while it parses the workflow.
"""

from __future__ import annotations

TASKS = ("linreg", "softmax")
IMPLS = ("scratch", "concise")

ENV_JSON = "results/env.json"
RUNS_ROOT = "results/runs"
CHUNK_MANIFEST = "results/chunks/{task}-{part}-of-{parts}.json"
FIGURES_ROOT = "results/figures"
SAMPLES_STEM = f"{FIGURES_ROOT}/fashion-mnist-samples"
SYNTHETIC_DATA = "resources/synthetic/linreg.npz"
SYNTHETIC_DESCRIPTION = "resources/synthetic/linreg.json"
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


def figure_dir(seed: int) -> str:
    return f"{FIGURES_ROOT}/seed-{seed}"


def seed_runs(seed: int) -> dict[str, str]:
    """{'linreg-scratch': 'results/runs/linreg-scratch/seed-0', ...}: the four runs of one seed."""
    return {run_key(task, impl): run_dir(task, impl, seed) for task in TASKS for impl in IMPLS}
