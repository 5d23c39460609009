"""The names of things, defined once: runs, their folders and files, chunks, the pipeline's outputs.

Everything that names a run, a folder or an output file imports it from here: the rules
(workflow/rules/common.smk), the chunk jobs, the figures, the MLflow logging and the report. No
torch, no MLflow: Snakemake imports this while it parses the workflow.
"""

from __future__ import annotations

from nndl.values import format_value

ENV_JSON = "results/env.json"
# This project's identity, made once and kept (not in git: each clone is a project of its own, and
# so is a copy: nndl.runs.project). Its runs in a shared MLflow store carry it (nndl.tracking.tags.
# PROJECT_TAG): a pipeline ends, marks or deletes only its own project's runs. Kept twice, beside
# the runs too, so that a lost .nndl/ loses nothing.
PROJECT_FILE = ".nndl/project.json"
PROJECT_SPARE = "results/project.json"
# The ids of the MLflow runs this project made, by store and run key (nndl.tracking.ledger.Ledger):
# where to look for a run's record without reading the whole experiment.
LEDGER_DIR = ".nndl/mlflow-runs"
# {folder: {'stamps': [bytes, mtime_ns of each run file], 'key': its run key}} of the run folders
# whose checksums matched their record when the workflow last hashed them: only a folder with a file
# whose size or mtime changed since is read and hashed again.
HASHED_FILES = ".snakemake/nndl/hashed-run-files.json"
RUNS_ROOT = "results/runs"
# A chunk is named by its group and its place among the group's chunks; how many chunks a group
# has depends on its runs and the config's chunk budget only, never on the machine.
CHUNK_MANIFEST = "results/chunks/{group}-{part}-of-{parts}.json"
CHUNK_GROUP_STUDY = "study-{study}"  # a study's chunks; the default runs' chunks are named by task
FIGURES_ROOT = "results/figures"
STUDIES_ROOT = "results/studies"
STUDY_SUMMARY = "results/studies/{study}/summary.json"  # its table, answer and figure files
STUDY_TABLE = "results/studies/{study}/table.csv"  # every row of its table (the report shows a large grid's few)
SUMMARY_REPORT = "results/report/summary.html"
STUDIES_REPORT = "results/report/studies.html"
TRACKED_RUNS = "results/tracking/runs.json"  # the pipeline's runs as MLflow has them
LOGGED_FIGURES = "results/tracking/figures.json"  # which figure went into which run
LOGGED_STUDIES = "results/tracking/studies.json"  # which study summary went into which parent run
FIGURES_MANIFEST = "figures.json"  # in each seed's figure folder: files, owners, drawing time

# The files of one run folder. RECORD is written last (nndl.runs.record): a run is complete when
# it holds the hashes of its spec, of the training code and of the data, its outcome, and the size
# and checksum of each other file.
MODEL, HISTORY, METRICS, PREDICTIONS, RECORD = (
    "model.pt", "history.json", "metrics.json", "predictions.json", "complete.json")
RUN_FILES = (MODEL, HISTORY, METRICS, PREDICTIONS, RECORD)


def learner(task: str, impl: str) -> str:
    """'softmax-scratch': one learner, whatever the seed."""
    return f"{task}-{impl}"


def run_name(task: str, impl: str, seed: int) -> str:
    """The MLflow run name: 'softmax-scratch-seed0'."""
    return f"{task}-{impl}-seed{seed}"


def run_dir(task: str, impl: str, seed: int, key: str) -> str:
    """'results/runs/linreg-scratch/seed-0/3fa2c1d9e0': `key` (nndl.runs.specs.training_key) keeps
    the runs of different configs apart, so switching configs overwrites nothing."""
    return f"{RUNS_ROOT}/{task}-{impl}/seed-{seed}/{key}"


def study_run_name(study: str, task: str, impl: str, point: str, seed: int) -> str:
    """'linreg-lr/linreg-scratch/learning_rate=0.1/seed0': unique across studies, like its folder."""
    return f"{study}/{task}-{impl}/{point}/seed{seed}"


# A study run's MLflow name says what differs first, short enough for the runs table's Run Name
# column, which shows about 17 characters of a run folded under its parent 'study: softmax-lr':
# 'lr=0.3 · s1 · concise' (its seed before its implementation, which many studies hold fixed). Its
# full name (study_run_name) stays in a tag. The settings studies vary most, shortened; any other
# setting keeps its own name.
# (`seed` in a study's `vary` is the synthetic data's; the run's own seed is the 's1'.)
SHORT_SETTINGS = {"learning_rate": "lr", "batch_size": "bs", "num_hiddens": "hidden", "num_hiddens2": "hidden2",
                  "pixel_scale": "scale", "huber_delta": "delta", "seed": "data_seed"}
TITLE_SEPARATOR = " · "


def study_run_title(point: dict, impl: str, seed: int) -> str:
    """'lr=0.3 · s1 · concise': a study run's MLflow name, its grid point (in the order of the
    study's `vary`), seed and implementation; unique within its study."""
    settings = [f"{SHORT_SETTINGS.get(key, key)}={format_value(value)}" for key, value in point.items()]
    return TITLE_SEPARATOR.join([*settings, f"s{seed}", impl])


def study_run_dir(study: str, task: str, impl: str, point: str, seed: int, key: str) -> str:
    return f"{STUDIES_ROOT}/{study}/runs/{task}-{impl}/{point.replace('/', '_')}/seed-{seed}/{key}"


def study_figure(study: str, figure: str) -> str:
    """'results/studies/linreg-lr/metric' (a stem: the formats are added)."""
    return f"{STUDIES_ROOT}/{study}/{figure}"


def figure_dir(seed: int | str) -> str:
    return f"{FIGURES_ROOT}/seed-{seed}"


def chunk_manifest(chunk: dict) -> str:
    """The manifest path of one chunk, {'group', 'part', 'parts'}."""
    return CHUNK_MANIFEST.format(**chunk)
