"""Snakemake adapter: put every seed's figures into the MLflow runs they show."""

from nndl import results, tracking
from nndl.config import tracking_uri
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    uri, experiment = tracking_uri(), snakemake.params.experiment
    files = results.figure_files_by_run(snakemake.input.manifests,
                                        [*snakemake.input.samples, *snakemake.input.samples_extra])
    logged = tracking.log_files(uri, experiment, {run_id: [(path, "figures") for path in paths]
                                                  for run_id, paths in files.items()})
    print(f"logged {logged} figure files into the runs of {experiment!r} at {uri}", file=log)
    write_json({"tracking_uri": uri, "experiment": experiment, "files": logged, "by_run": files},
               snakemake.output[0])
