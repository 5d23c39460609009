"""Snakemake adapter: create the MLflow store and experiment once, before training jobs fan out."""

from nndl import tracking
from nndl.config import tracking_uri
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    uri, experiment = tracking_uri(), snakemake.params.experiment
    experiment_id = tracking.ensure_experiment(uri, experiment)
    killed = tracking.mark_orphaned_runs_killed(uri, experiment)
    print(f"experiment {experiment!r} (id {experiment_id}) at {uri}; "
          f"marked {len(killed)} orphaned run(s) KILLED", file=log)
    write_json({"experiment": experiment, "experiment_id": experiment_id}, snakemake.output[0])
