"""Snakemake adapter: evaluate one trained model and log the results into its MLflow run."""

from pathlib import Path

from nndl import runs
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    runs.evaluate(
        snakemake.config, snakemake.wildcards.task, snakemake.wildcards.impl,
        data_path=snakemake.params.data, model_path=snakemake.input.model, run_id_path=snakemake.input.run_id,
        metrics_path=snakemake.output.metrics, predictions_path=snakemake.output.predictions,
        threads=snakemake.threads, project_root=Path.cwd(), log=log,
    )
