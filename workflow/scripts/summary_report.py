"""Snakemake adapter: execute the summary notebook with papermill and render it to HTML."""

from nndl.joblog import job_log
from nndl.report import notebook

with job_log(snakemake.log[0], writes=snakemake.output):
    parameters = notebook.parameters(
        snakemake.input.env, snakemake.params.seeds, snakemake.params.run_folders,
        snakemake.params.figure_folders, list(snakemake.input.samples), snakemake.input.tracked,
        snakemake.params.studies_report,
    )
    notebook.render(snakemake.input.template, snakemake.output.notebook, snakemake.output.html, parameters)
