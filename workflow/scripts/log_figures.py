"""Snakemake adapter: put every seed's figures into the MLflow runs they show."""

from nndl.files import read_json, write_json
from nndl.joblog import job_log
from nndl.report.catalog import files_by_run
from nndl.runs.recorded import mlflow_runs
from nndl.tasks.runspec import RunSpec
from nndl.runs.specs import seed_runs
from nndl.tracking.attach import log_files
from nndl.tracking.uri import tracking_uri

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    uri, experiment, seeds = tracking_uri(), snakemake.params.experiment, snakemake.params.seeds
    runs = [RunSpec.from_json(spec) for spec in snakemake.params.runs]
    specs = {seed: seed_runs(runs, seed) for seed in seeds}
    manifests = dict(zip(seeds, map(read_json, snakemake.input.manifests)))
    by_folder = files_by_run(manifests, specs, [*snakemake.input.samples, *snakemake.input.samples_extra])
    ids = mlflow_runs(uri, experiment, snakemake.params.project, list(by_folder))
    by_run = {ids[str(folder)]: paths for folder, paths in by_folder.items() if str(folder) in ids}
    logged = log_files(uri, experiment, {run_id: [(path, "figures") for path in paths] for run_id, paths in by_run.items()})
    print(f"logged {logged} figure files into the runs of {experiment!r} at {uri}", file=log)
    write_json({"tracking_uri": uri, "experiment": experiment, "files": logged, "by_run": by_run}, snakemake.output[0])
