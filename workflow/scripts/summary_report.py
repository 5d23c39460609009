"""Snakemake adapter: execute the summary notebook with papermill and render it to HTML."""

from pathlib import Path

from nndl import report
from nndl.joblog import job_log

with job_log(snakemake.log[0]):
    parameters = {
        "env_json": str(Path(snakemake.input.env).resolve()),
        "runs_root": str(Path("results/runs").resolve()),
        "figures_root": str(Path("results/figures").resolve()),
        "samples_figure": str(Path(snakemake.input.samples).resolve()),
        "seed": snakemake.params.seeds[0],
        "seeds": snakemake.params.seeds,
        "tracking_files": [str(Path(path).resolve()) for path in snakemake.input.tracked],
    }
    report.render(snakemake.input.template, snakemake.output.notebook, snakemake.output.html, parameters)
