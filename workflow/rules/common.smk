from pathlib import Path

from snakemake.utils import min_version

from nndl import codedeps, layout, results, specs
from nndl.config import check_tracking_access, export_tracking_uri, validate
from nndl.fashion_mnist import FILE_NAMES

min_version("9.0")


# Checks every key against workflow/schemas/config.schema.yaml and fills in defaults; a typo or a
# bad value stops here, before any job, with a message naming the key. A config that passed before
# is read back from .snakemake/nndl/ (validation is most of a no-op run's own cost).
SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
config.update(validate(config, SCHEMA, cache_dir=".snakemake/nndl"))

# MLflow's store: MLFLOW_TRACKING_URI if set, else mlflow.tracking_uri, else mlflow.db here. Jobs
# read it from the environment, so switching stores reruns no job.
TRACKING_URI = export_tracking_uri(config["mlflow"]["tracking_uri"], Path.cwd())
# A server that refuses this user's credentials (MLFLOW_TRACKING_USERNAME and _PASSWORD, kept in
# the environment only) stops the run here, before any job logs anything.
check_tracking_access(TRACKING_URI)

FASHION = config["data"]["fashion_mnist"]
FASHION_FILES = [f"{FASHION['dir']}/{name}" for name in FILE_NAMES]
SEEDS = config["seeds"]
# Every run of the config as a resolved spec (nndl.specs): the default runs, then each study's. The
# rules hand them to the jobs.
RUNS = specs.resolve_runs(config)
DEFAULT_RUNS = [spec for spec in RUNS if "study" not in spec]
# {study name: what its parent run, summary and report show of it}
STUDIES = {study["name"]: specs.study_definition(study) for study in config["studies"]}
# {digest: synthetic block} of every synthetic data set a run trains on (studies may vary it).
SYNTHETIC_SETS = specs.synthetic_datasets(RUNS)
# As many training jobs as can run at once: --jobs with a cluster executor, else the cores
# divided by the threads of each job. The default runs' chunks share it between the tasks; each
# study has chunks of its own (nndl.specs.chunks_per_group).
PARALLELISM = workflow.nodes or max(1, workflow.cores // config["train_threads"])
CHUNKS = specs.chunk_ids(RUNS, PARALLELISM)
CHUNK_MANIFESTS = [layout.CHUNK_MANIFEST.format(**chunk) for chunk in CHUNKS]
DEFAULT_CHUNK_MANIFESTS = [
    layout.CHUNK_MANIFEST.format(**chunk)
    for chunk in CHUNKS
    if chunk["group"] in layout.TASKS
]
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
    study_summary,
    log_studies,
    studies_report,


wildcard_constraints:
    group="|".join(layout.TASKS)
    + "|"
    + layout.CHUNK_GROUP_STUDY.format(study="[a-z][a-z0-9-]*"),
    study="[a-z][a-z0-9-]*",
    digest="[0-9a-f]+",
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


def script_path(script):
    """A workflow script as the project names it (MLflow's mlflow.source.name)."""
    return str((SCRIPTS / f"{script}.py").relative_to(workflow.basedir))


def chunk_runs(wildcards):
    """The specs of the runs one chunk job trains."""
    return specs.chunk_members(
        RUNS, wildcards.group, int(wildcards.part), int(wildcards.parts)
    )


def chunk_data(wildcards):
    """The data a chunk's runs train on: synthetic arrays and their descriptions, or the
    Fashion-MNIST files and their manifest."""
    paths = set()
    for spec in chunk_runs(wildcards):
        if spec["task"] == "linreg":
            paths.update([spec["data"]["path"], spec["data"]["description"]])
        else:
            paths.update([*FASHION_FILES, spec["data"]["manifest"]])
    return sorted(paths)


def synthetic_set(wildcards):
    """The synthetic: block of one data set, by its digest."""
    return SYNTHETIC_SETS[wildcards.digest]


def study_definition(wildcards):
    return STUDIES[wildcards.study]


def study_chunk_manifests(wildcards):
    group = layout.CHUNK_GROUP_STUDY.format(study=wildcards.study)
    return [
        layout.CHUNK_MANIFEST.format(**chunk)
        for chunk in CHUNKS
        if chunk["group"] == group
    ]


def study_runs(wildcards):
    """[{'name', 'dir', 'impl', 'seed', 'point'}] of one study's runs, in grid order."""
    return [
        {key: spec[key] for key in ("name", "dir", "impl", "seed")}
        | {"point": spec["study"]["point"]}
        for spec in RUNS
        if spec.get("study", {}).get("name") == wildcards.study
    ]


def study_figures(study="{study}", extra=False):
    return [
        path
        for figure in layout.STUDY_FIGURES
        for path in figure_files(layout.study_figure(study, figure), extra)
    ]


def seed_chunk_manifests(wildcards):
    """The manifests of the chunks that train one seed's runs."""
    names = [
        spec["name"] for spec in DEFAULT_RUNS if spec["seed"] == int(wildcards.seed)
    ]
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
    studies = [layout.LOGGED_STUDIES, layout.STUDIES_REPORT] if STUDIES else []
    return [
        layout.ENV_JSON,
        *CHUNK_MANIFESTS,
        layout.LOGGED_FIGURES,
        "results/report/summary.html",
        *studies,
    ]


onsuccess:
    print(results.mlflow_hint())
