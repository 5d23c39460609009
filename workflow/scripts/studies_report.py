"""Snakemake adapter: execute the studies notebook with papermill and render it to HTML."""

from pathlib import Path

from nndl.joblog import job_log
from nndl.report import notebook

with job_log(snakemake.log[0], writes=snakemake.output):
    parameters = {"summaries": [str(Path(path).resolve()) for path in snakemake.input.summaries],
                  "report_folder": str(Path(snakemake.output.html).parent.resolve())}
    notebook.render(snakemake.input.template, snakemake.output.notebook, snakemake.output.html, parameters)
