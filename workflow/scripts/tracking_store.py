"""Snakemake adapter: create the MLflow store and experiment once, before training jobs fan out."""

from pathlib import Path

from nndl import config, tracking
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    uri = config.tracking_uri(snakemake.config, Path.cwd())
    experiment_id = tracking.ensure_experiment(uri, snakemake.params.experiment)
    killed = tracking.mark_orphaned_runs_killed(uri, snakemake.params.experiment)
    print(f"experiment {snakemake.params.experiment!r} (id {experiment_id}) at {uri}; "
          f"marked {len(killed)} orphaned run(s) KILLED", file=log)
    write_json({"experiment": snakemake.params.experiment, "experiment_id": experiment_id}, snakemake.output[0])
