"""Snakemake adapter: put each study's summary and figures into its MLflow parent run, its answer
into the parent's description, and end the parent with its last run."""

from nndl.files import read_json, write_json
from nndl.joblog import job_log
from nndl.tracking.studies import log_study_summaries
from nndl.tracking.uri import tracking_uri

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    uri, experiment = tracking_uri(), snakemake.params.experiment
    summaries = {path: read_json(path) for path in snakemake.input.summaries}
    logged = log_study_summaries(uri, experiment, summaries)
    print(f"logged {logged} files into {len(summaries)} study parent runs of {experiment!r} at {uri}", file=log)
    write_json({"tracking_uri": uri, "experiment": experiment, "files": logged,
                "by_study": {summary["study"]["name"]: summary["parent_run_id"] for summary in summaries.values()}},
               snakemake.output[0])
