"""Snakemake adapter: write each study's saved view; put its summary and figures into its MLflow
parent run, its answer and its view's link into the parent's description, its best value into the
parent's metrics, and end the parent with its last run."""

from nndl.files import read_json, write_json
from nndl.joblog import job_log
from nndl.tracking.studies import log_study_summaries
from nndl.tracking.uri import study_view_line, tracking_uri
from nndl.tracking.views import save_study_views

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    uri, experiment = tracking_uri(), snakemake.params.experiment
    summaries = {path: read_json(path) for path in snakemake.input.summaries}
    links = save_study_views(uri, list(summaries.values()), snakemake.params.project)
    logged = log_study_summaries(uri, experiment, summaries, links)
    print(f"logged {logged} files into {len(summaries)} study parent runs of {experiment!r} at {uri}", file=log)
    for study, link in links.items():
        print(study_view_line(study, link), file=log)
    write_json({"tracking_uri": uri, "experiment": experiment, "files": logged, "views": links,
                "by_study": {summary["study"]["name"]: summary["parent_run_id"] for summary in summaries.values()}},
               snakemake.output[0])
