"""Snakemake adapter: train one {task}-{impl} model for one seed."""

from pathlib import Path

from nndl import runs
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    runs.train(
        snakemake.config, snakemake.wildcards.task, snakemake.wildcards.impl, int(snakemake.wildcards.seed),
        data_path=snakemake.params.data, model_path=snakemake.output.model,
        history_path=snakemake.output.history, run_id_path=snakemake.output.run_id,
        threads=snakemake.threads, project_root=Path.cwd(), log=log,
    )
