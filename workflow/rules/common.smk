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


wildcard_constraints:
    task="|".join(TASKS),
    impl="|".join(IMPLS),
    seed=r"\d+",


def package_modules(*names):
    return [str(PACKAGE / f"{name}.py") for name in names]


def run_outputs(name):
    return expand(f"{RUN_DIR}/{name}", task=TASKS, impl=IMPLS, seed=SEEDS)


def task_data(wildcards):
    """The data a task trains on: synthetic tensors, or the Fashion-MNIST files."""
    if wildcards.task == "linreg":
        return ["resources/synthetic/linreg.pt"]
    return [f"{FASHION['dir']}/{name}" for name in FASHION_FILES]


def task_data_path(wildcards):
    if wildcards.task == "linreg":
        return "resources/synthetic/linreg.pt"
    return FASHION["dir"]


def run_settings(wildcards):
    """The resolved settings of one run: changing them reruns that run only."""
    from nndl.config import run_config

    return run_config(config, wildcards.task, wildcards.impl, int(wildcards.seed))


def final_outputs():
    return [
        "results/env.json",
        *run_outputs("metrics.json"),
    ]
