"""Snakemake adapter: read the pipeline's runs back from MLflow, for the report (which then needs no MLflow)."""

from nndl import results, tracking
from nndl.config import tracking_uri
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    uri, experiment = tracking_uri(), snakemake.params.experiment
    summary = tracking.store_summary(uri, experiment, results.chunk_run_ids(snakemake.input.chunks))
    print(f"{len(summary['runs'])} of the pipeline's {len(summary['pipeline_runs'])} runs are in "
          f"{experiment!r} at {uri}", file=log)
    write_json(summary, snakemake.output[0])
