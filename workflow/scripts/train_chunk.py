"""Snakemake adapter: train and evaluate the runs of one chunk in this process, each its own MLflow run."""

from pathlib import Path

from nndl.chunks import run_chunk
from nndl.files import read_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    parents = {parent["study"]: parent["run_id"] for parent in map(read_json, snakemake.input.parents)}
    run_chunk(
        snakemake.params.runs, snakemake.output[0], experiment=snakemake.params.experiment,
        project_root=Path.cwd(), threads=snakemake.threads, source=snakemake.params.source,
        parents=parents, log=log,
    )
