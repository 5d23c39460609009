from pathlib import Path

from snakemake.utils import min_version

from nndl import codedeps, layout, results, specs
from nndl.config import export_tracking_uri, validate
from nndl.fashion_mnist import FILE_NAMES

min_version("9.0")


# Checks every key against workflow/schemas/config.schema.yaml and fills in defaults; a typo or a
# bad value stops here, before any job, with a message naming the key. A config that passed before
# is read back from .snakemake/nndl/ (validation is most of a no-op run's own cost).
SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
config.update(validate(config, SCHEMA, cache_dir=".snakemake/nndl"))

# MLflow's store: MLFLOW_TRACKING_URI if set, else mlflow.tracking_uri, else mlflow.db here. Jobs
# read it from the environment, so switching stores reruns no job.
export_tracking_uri(config["mlflow"]["tracking_uri"], Path.cwd())

FASHION = config["data"]["fashion_mnist"]
FASHION_FILES = [f"{FASHION['dir']}/{name}" for name in FILE_NAMES]
SEEDS = config["seeds"]
# Every run of the config as a resolved spec (nndl.specs); the rules hand them to the jobs.
RUNS = specs.resolve_runs(config)
# As many training jobs as can run at once, split between the tasks: --jobs with a cluster
# executor, else the cores divided by the threads of each job.
PARALLELISM = workflow.nodes or max(1, workflow.cores // config["train_threads"])
CHUNKS = specs.chunk_ids(RUNS, PARALLELISM)
CHUNK_MANIFESTS = [layout.CHUNK_MANIFEST.format(**chunk) for chunk in CHUNKS]
FIGURE_DIR = layout.figure_dir("{seed}")
EXTRA_FORMATS = [fmt for fmt in config["figures"]["formats"] if fmt != "png"]
# The project's own package; a rule lists the modules its script imports, so editing one reruns it.
PACKAGE = Path(workflow.basedir) / "src" / "nndl"
SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"
ENVIRONMENT = "../../environment.yml"


# On a cluster these run where Snakemake runs: they are light, and the data copy may need the network.
localrules:
    all,
    fashion_mnist,
    synthetic_data,
    track_runs,
    figure_samples,
    figures,
    log_figures,
    summary_report,


wildcard_constraints:
    task="|".join(layout.TASKS),
    part=r"\d+",
    parts=r"\d+",
    seed=r"\d+",


def script_code(script, *more):
    """The nndl modules a rule's script (and `more` files, such as a notebook) import, directly
    or not: the code that decides the rule's outputs besides the script itself."""
    sources = [
        SCRIPTS / f"{script}.py",
        *(Path(workflow.basedir) / path for path in more),
    ]
    return [str(path) for path in codedeps.closure(PACKAGE, *sources)]


def chunk_runs(wildcards):
    """The specs of the runs one chunk job trains."""
    return specs.chunk_members(
        RUNS, wildcards.task, int(wildcards.part), int(wildcards.parts)
    )


def task_data(wildcards):
    """The data a task trains on: synthetic tensors, or the Fashion-MNIST files."""
    if wildcards.task == "linreg":
        return [layout.SYNTHETIC_DATA]
    return FASHION_FILES


def seed_chunk_manifests(wildcards):
    """The manifests of the chunks that train one seed's runs."""
    names = [spec["name"] for spec in RUNS if spec["seed"] == int(wildcards.seed)]
    return sorted(
        {
            layout.CHUNK_MANIFEST.format(**specs.chunk_of_run(CHUNKS, RUNS, name))
            for name in names
        }
    )


def seed_run_folders(wildcards):
    return layout.seed_runs(int(wildcards.seed))


def figure_files(stem, extra=False):
    return [f"{stem}.{fmt}" for fmt in (EXTRA_FORMATS if extra else ["png"])]


def seed_figures(extra=False):
    """Figure paths of one seed, with {seed} left as a wildcard."""
    return [
        path
        for stem in layout.SEED_FIGURES
        for path in figure_files(f"{FIGURE_DIR}/{stem}", extra)
    ]


def seed_figure(stem):
    assert stem in layout.SEED_FIGURES, f"{stem}: not a figure nndl.layout names"
    return f"{FIGURE_DIR}/{stem}.png"


def report_run_folders():
    """{seed: {'linreg-scratch': folder, ...}} for the report (JSON keys are strings)."""
    return {str(seed): layout.seed_runs(seed) for seed in SEEDS}


def report_figure_folders():
    return {str(seed): layout.figure_dir(seed) for seed in SEEDS}


def final_outputs():
    return [
        layout.ENV_JSON,
        *CHUNK_MANIFESTS,
        layout.LOGGED_FIGURES,
        "results/report/summary.html",
    ]


onsuccess:
    print(results.mlflow_hint())
