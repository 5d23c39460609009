"""Snakemake adapter: train and evaluate the runs of one chunk in this process, each its own MLflow run."""

from pathlib import Path

from nndl import heap
from nndl.joblog import job_log
from nndl.numerics import prepare
from nndl.tasks.runspec import RunSpec

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    specs = [RunSpec.from_json(spec) for spec in snakemake.params.runs]
    prepare(specs[0].numerics)  # before torch is imported: one config key, the same for every run
    heap.loading()  # torch, its compiler and MLflow, kept to the end: see nndl.heap

    from nndl.runs.chunk_job import run_chunk  # imports torch

    run_chunk(specs, snakemake.output[0], experiment=snakemake.params.experiment, project=snakemake.params.project,
              project_root=Path.cwd(), source=snakemake.params.source, log=log,
              record_timeout_s=snakemake.params.record_timeout_s)
