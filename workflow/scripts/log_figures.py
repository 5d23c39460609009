"""Snakemake adapter: attach each figure of one seed to its MLflow run(s)."""

from pathlib import Path

from nndl import config, report, tracking
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    run_ids = {Path(path).parent.parent.name: Path(path).read_text().strip() for path in snakemake.input.run_ids}
    figures = [*snakemake.input.figures, *snakemake.input.extra, *snakemake.input.samples]
    uri = config.tracking_uri(snakemake.config, Path.cwd())
    by_run = {run: [f for f in figures if run in report.figure_owners(f, list(run_ids))] for run in run_ids}
    logged = tracking.log_figures(uri, run_ids, by_run)
    print(f"logged {sum(map(len, logged.values()))} figure files into {len(logged)} runs", file=log)
    write_json(logged, snakemake.output[0])
