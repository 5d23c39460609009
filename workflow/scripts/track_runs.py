"""Snakemake adapter: read the pipeline's runs back from MLflow, for the report (which then needs no
MLflow), and write the default runs' saved view."""

from nndl.files import write_json
from nndl.joblog import job_log
from nndl.runs.recorded import mlflow_runs
from nndl.tasks.runspec import RunSpec
from nndl.tracking.readback import store_summary
from nndl.tracking.uri import tracking_uri
from nndl.tracking.views import save_default_view

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    uri, experiment, project = tracking_uri(), snakemake.params.experiment, snakemake.params.project
    runs = [RunSpec.from_json(spec) for spec in snakemake.params.runs]
    ids = mlflow_runs(uri, experiment, project, [spec.dir for spec in runs])
    run_ids = {spec.name: ids.get(spec.dir) for spec in runs}  # None: not recorded here
    summary = store_summary(uri, experiment, project, run_ids)
    print(f"{len(summary['runs'])} of the pipeline's {len(run_ids)} runs are in {experiment!r} at {uri}", file=log)
    if summary["experiment_id"]:
        tasks = list(dict.fromkeys(spec.task for spec in runs))
        summary["view_page"] = save_default_view(uri, summary["experiment_id"], project, tasks, summary["runs"])
        print(f"the default runs, compared: {summary['view_page']}", file=log)
    write_json(summary, snakemake.output[0])
