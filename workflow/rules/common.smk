from pathlib import Path

from snakemake.iocontainers import ReportHref
from snakemake.utils import min_version

from nndl import fingerprint, heap
from nndl.config.validate import SCHEMA_PATH, validate
from nndl.data import checks as data_checks
from nndl.data import sources
from nndl.report import catalog
from nndl.report import tables  # imported, it checks every task's table kinds
from nndl.report.rule_params import described, run_specs
from nndl.runs import checks, chunks, code, grid, names, plan, specs
from nndl.runs.project import keep_spare, project_identity
from nndl.tasks.registry import TASKS
from nndl.interrupt import hang_up_as_interrupt
from nndl.tracking.probe import read_store
from nndl.tracking.uri import closing_hint, export_tracking_uri

min_version("9.0")


# Checks every key against workflow/schemas/config.schema.yaml and fills in defaults; a typo or a
# bad value stops here, before any job, with a message naming the key. A config that passed before
# is read back from .snakemake/nndl/ (validation is most of a no-op run's own cost).
# Code fingerprints (the config cache's key, each rule's code) reparse only the files that
# changed since the last start.
fingerprint.use_cache(".snakemake/nndl/code-facts.json")
SCHEMA = Path(workflow.basedir) / SCHEMA_PATH
config.update(validate(config, SCHEMA, cache_dir=".snakemake/nndl"))
# How many runs the config plans and about how long they train, said before any job; more than
# max_runs stops here, before a grid is made.
plan.check_size(config)

# MLflow's store: MLFLOW_TRACKING_URI if set, else mlflow.tracking_uri, else mlflow.db here. Jobs
# read it from the environment.
TRACKING_URI = export_tracking_uri(config["mlflow"]["tracking_uri"], Path.cwd())
# This project's identity (made once, kept in .nndl/ and results/, not in git): its MLflow runs
# carry it, and the pipeline ends, marks or deletes only runs that carry it, never a teammate's. A
# copy of a project (cp -a) becomes a project of its own here; a moved one stays the same.
PROJECT = project_identity(Path.cwd())
# What the store holds for this project (nndl.tracking.probe, one query): the run keys with a live,
# whole record. A server that refuses this user's credentials (MLFLOW_TRACKING_USERNAME and
# _PASSWORD, kept in the environment only), lets them only read, or does not answer, a deleted
# experiment, a damaged sqlite file, one of another MLflow version or half-made by a failure (set
# aside if it holds no run), or a store in this project that keeps its files outside it (copied
# with it) stops the run here, before any job, with the fix.
STORE = read_store(
    TRACKING_URI,
    config["mlflow"]["experiment"],
    PROJECT,
    cache=".snakemake/nndl/store-check.json",
    root=Path.cwd(),
)
# A closed terminal (SIGHUP) stops the run as Ctrl-C does: jobs ended (the runs they were training
# dropped, the complete ones kept), the lock released (Python's default would end Snakemake at
# once and leave its lock behind).
hang_up_as_interrupt()

FASHION = config["data"]["fashion_mnist"]
# The verified copy's manifest stands for its four files (nndl.data.checks): a file that went
# missing or was damaged plans the data rule again, which replaces that file only.
FASHION_MANIFEST = sources.manifest_path(FASHION["dir"])
FASHION_CHECK = data_checks.check_copy(FASHION_MANIFEST)
SEEDS = config["seeds"]
# Every run of the config as a resolved spec (nndl.tasks.runspec.RunSpec): the default runs, then
# each study's. The rules hand them to the jobs as JSON; every folder and name below comes from them.
RUNS = plan.resolve_runs(config)
# The tasks the config trains (its `tasks:`, in the registry's order): their figures and sections.
TASK_NAMES = plan.chosen_tasks(config)
DEFAULT_RUNS = specs.default_runs(RUNS)
DEFAULT_RUNS_JSON = [spec.to_json() for spec in DEFAULT_RUNS]
DEFAULT_RUNS_DIGEST = specs.specs_digest(DEFAULT_RUNS)
# {study name: what its parent run, summary and report show of it}
STUDIES = {study["name"]: grid.study_definition(study) for study in config["studies"]}
# {digest: synthetic block} of every synthetic data set a run trains on (studies may vary it).
SYNTHETIC_SETS = specs.synthetic_datasets(RUNS)
# The chunks are cut by estimated work against the config's budget: the same on any machine.
CHUNKS = chunks.chunk_ids(RUNS, config["chunk_seconds"])
CHUNK_MANIFESTS = [names.chunk_manifest(chunk) for chunk in CHUNKS]
# Every chunk's runs, grouped and cut once: the rules ask for them many times.
PLAN = chunks.ChunkPlan(RUNS, CHUNKS)
# A finished chunk whose run lost a file or holds a changed one, or has no live record of this
# project in the store, is planned again (nndl.runs.checks).
checks.check_run_files(
    PLAN.pairs,
    STORE,
    f"experiment {config['mlflow']['experiment']!r} at {TRACKING_URI}",
)
DEFAULT_CHUNK_MANIFESTS = [
    names.chunk_manifest(chunk) for chunk in CHUNKS if chunk["group"] in TASKS
]
EXTRA_FORMATS = [fmt for fmt in config["figures"]["formats"] if fmt != "png"]
# The images the classifiers train on: the sample grid and its caption name them as what they are
# (Fashion-MNIST, or the generated stand-in). None when no task of the config trains on images.
IMAGES = catalog.images_of(RUNS)
# Each figure's caption for Snakemake's report, written from its declaration (nndl.report.catalog),
# and the report's intro, which names every task of the config.
CAPTIONS = catalog.write_captions(".snakemake/nndl/captions", IMAGES)
INTRO = catalog.write_intro(
    Path(workflow.basedir) / "workflow" / "report" / "workflow.rst",
    ".snakemake/nndl/captions",
    RUNS,
)
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
    group="|".join([*TASKS, names.CHUNK_GROUP_STUDY.format(study="[a-z][a-z0-9-]*")]),
    study="[a-z][a-z0-9-]*",
    digest="[0-9a-f]+",
    part=r"\d+",
    parts=r"\d+",
    seed=r"\d+",


def rule_code(script, *more):
    """The fingerprint of a rule's code: its script, `more` files (a notebook) and every nndl
    module they import, without comments and docstrings. A rule's job reruns when it changes
    (Snakemake's params trigger); a comment or a docstring changes nothing."""
    return code.rule_code(
        SCRIPTS / f"{script}.py",
        *(Path(workflow.basedir) / path for path in more),
    )


def script_path(script):
    """A workflow script as the project names it (MLflow's mlflow.source.name)."""
    return str((SCRIPTS / f"{script}.py").relative_to(workflow.basedir))


def chunk_specs(wildcards):
    """The specs of the runs one chunk job trains."""
    return PLAN.runs_of(wildcards.group, int(wildcards.part), int(wildcards.parts))


def job_only(function):
    """The same params, handed to the job but not kept in Snakemake's metadata: a params function
    that takes `output` is one Snakemake neither stores nor compares (a "derived" param). The
    digest of the specs beside it (nndl.runs.specs.specs_digest) is what it keeps and compares.
    """
    return lambda wildcards, output: function(wildcards)


def chunk_specs_json(wildcards):
    """The specs of one chunk, as its job reads them (JSON)."""
    return [spec.to_json() for spec in chunk_specs(wildcards)]


def chunk_digest(wildcards):
    return specs.specs_digest(chunk_specs(wildcards))


def chunk_code(wildcards):
    """The fingerprint of the code a chunk job runs, its task's model and registry entry included
    (nndl.runs.code.chunk_code): editing one task's model reruns that task's chunks only.
    """
    (task,) = {
        spec.task for spec in chunk_specs(wildcards)
    }  # a chunk holds one task's runs
    return code.chunk_code(SCRIPTS / "train_chunk.py", TASKS[task])


def chunk_data(wildcards):
    """The data a chunk's runs train on: synthetic arrays and their descriptions, or the
    Fashion-MNIST files' manifest."""
    return sorted(
        {path for spec in chunk_specs(wildcards) for path in spec.data.inputs()}
    )


def fashion_sources(wildcards, output):
    """The data block (its sources: local_dir, system_dir, mirrors, ...) for the data rule. Where a
    copy comes from does not change the data, and a params function that takes `output` is one
    Snakemake does not count among the reasons to rerun a job (a "derived" param): a change of
    sources alone reruns nothing and deletes nothing (what the data is: `generate`)."""
    return FASHION


def synthetic_set(wildcards):
    """The synthetic: block of one data set, by its digest."""
    return SYNTHETIC_SETS[wildcards.digest]


def study_definition(wildcards):
    """One study's definition (Snakemake's report shows which study and what it varies)."""
    study = STUDIES[wildcards.study]
    varied = ", ".join(study["vary"])
    return described(study, f"the definition of {study['name']}, varying {varied}")


def study_specs_json(wildcards):
    """The specs of one study's runs, in grid order, as its jobs read them (JSON)."""
    runs = [spec.to_json() for spec in grid.study_runs(RUNS, wildcards.study)]
    return run_specs(runs, f"the runs of study {wildcards.study}")


def study_digest(wildcards):
    return specs.specs_digest(grid.study_runs(RUNS, wildcards.study))


def study_chunk_manifests(wildcards):
    return [
        names.chunk_manifest(chunk)
        for chunk in PLAN.chunks_of(grid.study_runs(RUNS, wildcards.study))
    ]


def seed_specs(wildcards):
    """The specs of the default runs of one seed."""
    return list(specs.seed_runs(RUNS, int(wildcards.seed)).values())


def seed_specs_json(wildcards):
    """The specs of the default runs of one seed, as its jobs read them (JSON)."""
    runs = [spec.to_json() for spec in seed_specs(wildcards)]
    return run_specs(runs, f"the default runs of seed {wildcards.seed}")


def seed_digest(wildcards):
    return specs.specs_digest(seed_specs(wildcards))


def seed_chunk_manifests(wildcards):
    """The manifests of the chunks that train one seed's runs."""
    return [
        names.chunk_manifest(chunk) for chunk in PLAN.chunks_of(seed_specs(wildcards))
    ]


def figure_files(stem, extra=False):
    return [f"{stem}.{fmt}" for fmt in (EXTRA_FORMATS if extra else ["png"])]


# The sample grid's files, or none when no task of the config trains on images.
SAMPLES_PNG = figure_files(catalog.samples_stem()) if IMAGES else []
SAMPLES_EXTRA = figure_files(catalog.samples_stem(), extra=True) if IMAGES else []


def seed_figures(extra=False):
    """Figure paths of one seed, with {seed} left as a wildcard."""
    return [
        path
        for figure in catalog.seed_figures(TASK_NAMES)
        for path in figure_files(catalog.seed_stem(figure, "{seed}"), extra)
    ]


def seed_figure_outputs():
    """{stem: report(png)}: each figure of a seed in Snakemake's report, captioned as declared."""
    return {
        figure.stem.replace("-", "_"): report(
            f"{catalog.seed_stem(figure, '{seed}')}.png",
            caption=CAPTIONS[figure.stem],
            category=figure.section,
            subcategory=figure.subsection,
        )
        for figure in catalog.seed_figures(TASK_NAMES)
    }


def study_figure_outputs():
    """{stem: report(png)}: each figure of a study in Snakemake's report, captioned as declared."""
    return {
        figure.stem: report(
            f"{catalog.study_stem(figure, '{study}')}.png",
            caption=CAPTIONS[figure.stem],
            category=figure.section,
            subcategory=figure.subsection,
        )
        for figure in catalog.STUDY_FIGURES
    }


def study_figures(study="{study}", extra=False):
    return [
        path
        for figure in catalog.STUDY_FIGURES
        for path in figure_files(catalog.study_stem(figure, study), extra)
    ]


def report_run_folders():
    """{seed: {'linreg-scratch': folder, ...}} for the report (JSON keys are strings)."""
    folders = {
        str(seed): {key: spec.dir for key, spec in specs.seed_runs(RUNS, seed).items()}
        for seed in SEEDS
    }
    return described(folders, "the folders of each seed's default runs")


def report_figure_folders():
    folders = {str(seed): names.figure_dir(seed) for seed in SEEDS}
    return described(folders, f"{names.figure_dir('<seed>')} of each seed")


def studies_report_links():
    """The summary's links to the studies report (None: no studies): from the folder beside it,
    and from inside Snakemake's report, where each is an item of its own (the link Snakemake's
    snakemake.report_href makes in a job's script)."""
    if not STUDIES:
        return None
    return {
        "beside": Path(names.STUDIES_REPORT).name,
        "in_report": str(ReportHref(names.STUDIES_REPORT)),
    }


def final_outputs():
    studies = [names.LOGGED_STUDIES, names.STUDIES_REPORT] if STUDIES else []
    return [
        names.ENV_JSON,
        *CHUNK_MANIFESTS,
        names.LOGGED_FIGURES,
        names.SUMMARY_REPORT,
        *studies,
    ]


onsuccess:
    # The identity's spare beside the runs, once there are some (never at the parse: one that stops
    # leaves no results/).
    keep_spare(Path.cwd())
    print(closing_hint(names.TRACKED_RUNS, names.LOGGED_STUDIES, tuple(STUDIES)))


onerror:
    # A run that stopped may still have finished some runs: their identity's spare too.
    keep_spare(Path.cwd())
