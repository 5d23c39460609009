from pathlib import Path

from snakemake.utils import min_version

from nndl.config import validate
from nndl.fashion_mnist import FILE_NAMES

min_version("9.0")


# Checks every key against workflow/schemas/config.schema.yaml and fills in defaults; a typo or a
# bad value stops here, before any job, with a message naming the key.
config.update(validate(config))

FASHION = config["data"]["fashion_mnist"]
FASHION_FILES = FILE_NAMES
TASKS = ["linreg", "softmax"]
IMPLS = ["scratch", "concise"]
SEEDS = config["seeds"]
RUN_DIR = "results/runs/{task}-{impl}/seed-{seed}"
# The project's own package; listing its modules as inputs reruns a rule when they change.
PACKAGE = Path(workflow.basedir) / "src" / "nndl"
ENVIRONMENT = "../../environment.yml"
FIGURE_DIR = "results/figures/seed-{seed}"
# The figures of one seed (nndl.figures.draw_seed writes them); PNG always, other formats on request.
SEED_FIGURE_STEMS = [
    *(
        f"softmax-{impl}-{kind}"
        for kind in ("curves", "predictions", "confusion")
        for impl in IMPLS
    ),
    "softmax-comparison",
    "linreg-loss",
    "linreg-trajectory",
]
EXTRA_FORMATS = [fmt for fmt in config["figures"]["formats"] if fmt != "png"]
RUN_FILES = ["history.json", "metrics.json", "predictions.json", "run_id.txt"]


# On a cluster these run where Snakemake runs: they are light, and the data copy may need the network.
localrules:
    all,
    fashion_mnist,
    synthetic_data,
    tracking_store,
    figure_samples,
    figures,
    log_results,
    summary_report,


wildcard_constraints:
    task="|".join(TASKS),
    impl="|".join(IMPLS),
    seed=r"\d+",


def package_modules(*names):
    return [str(PACKAGE / f"{name}.py") for name in names]


def run_outputs(name):
    return expand(f"{RUN_DIR}/{name}", task=TASKS, impl=IMPLS, seed=SEEDS)


def figure_files(stem, extra=False):
    return [f"{stem}.{fmt}" for fmt in (EXTRA_FORMATS if extra else ["png"])]


def seed_figures(extra=False):
    """Figure paths of one seed, with {seed} left as a wildcard."""
    return [
        path
        for stem in SEED_FIGURE_STEMS
        for path in figure_files(f"{FIGURE_DIR}/{stem}", extra)
    ]


def seed_run_outputs(name):
    """One file of every run of a seed ({seed} left as a wildcard)."""
    return expand(f"{RUN_DIR}/{name}", task=TASKS, impl=IMPLS, allow_missing=True)


def task_data(wildcards):
    """The data a task trains on: synthetic tensors, or the Fashion-MNIST files."""
    if wildcards.task == "linreg":
        return ["resources/synthetic/linreg.npz"]
    return [f"{FASHION['dir']}/{name}" for name in FASHION_FILES]


def task_data_path(wildcards):
    if wildcards.task == "linreg":
        return "resources/synthetic/linreg.npz"
    return FASHION["dir"]


def run_settings(wildcards):
    """The resolved settings of one run: changing them reruns that run only."""
    from nndl.config import run_config

    return run_config(config, wildcards.task, wildcards.impl, int(wildcards.seed))


def mlflow_hint():
    """Where to look at the runs (the UI opens on a GenAI overview page, not on the runs)."""
    import json

    experiment = Path("results/tracking/experiment.json")
    if not experiment.exists():
        return ""
    experiment_id = json.loads(experiment.read_text())["experiment_id"]
    return (
        "Runs are tracked in MLflow. Start the UI in this folder with: mlflow ui\n"
        f"then open http://127.0.0.1:5000/#/experiments/{experiment_id}/runs"
    )


def final_outputs():
    return [
        "results/env.json",
        *run_outputs("metrics.json"),
        "results/report/summary.html",
    ]


onsuccess:
    print(mlflow_hint())
