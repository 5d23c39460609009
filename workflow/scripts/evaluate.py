"""Snakemake adapter: evaluate one trained model (metrics and predictions as JSON)."""

from nndl.evaluation import evaluate_run
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    evaluate_run(
        snakemake.config, snakemake.wildcards.task, snakemake.wildcards.impl,
        data_path=snakemake.params.data, model_path=snakemake.input.model, run_id_path=snakemake.input.run_id,
        metrics_path=snakemake.output.metrics, predictions_path=snakemake.output.predictions,
        threads=snakemake.threads, log=log,
    )
