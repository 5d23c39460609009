"""Snakemake adapter: find or create a study's MLflow parent run, which its runs are nested under."""

from nndl import tracking
from nndl.config import tracking_uri
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    uri, experiment, study = tracking_uri(), snakemake.params.experiment, snakemake.params.study
    run_id, experiment_id = tracking.study_parent(uri, experiment, study, snakemake.params.source)
    print(f"study {study['name']!r}: parent run {run_id} in {experiment!r} at {uri}", file=log)
    write_json({"study": study["name"], "run_id": run_id, "experiment_id": experiment_id}, snakemake.output[0])
