"""Snakemake adapter: put every seed's figures into the MLflow runs they show, and read the runs back
for the report (which then needs no MLflow)."""

from nndl import results, tracking
from nndl.config import tracking_uri
from nndl.files import read_json, write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    uri, experiment = tracking_uri(), snakemake.params.experiment
    files = results.figure_files_by_run(snakemake.input.manifests,
                                        [*snakemake.input.samples, *snakemake.input.samples_extra])
    count = tracking.log_files(uri, {run_id: [(path, "figures") for path in paths] for run_id, paths in files.items()})
    run_ids = [run["run_id"] for path in snakemake.input.chunks for run in read_json(path)["runs"]]
    experiment_id, total = tracking.experiment_run_count(uri, experiment)
    print(f"logged {count} figure files into {len(files)} runs", file=log)
    write_json({"tracking_uri": uri, "experiment": experiment, "experiment_id": experiment_id,
                "experiment_runs": total, "runs": tracking.run_summaries(uri, experiment, run_ids)},
               snakemake.output[0])
