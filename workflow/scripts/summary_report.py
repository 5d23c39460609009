"""Snakemake adapter: execute the summary notebook with papermill and render it to HTML."""

from pathlib import Path

from nndl import report
from nndl.joblog import job_log


def absolute(path):
    return str(Path(path).resolve())


with job_log(snakemake.log[0]):
    seeds = snakemake.params.seeds
    parameters = {
        "env_json": absolute(snakemake.input.env),
        "seeds": seeds,
        "run_folders": {seed: {run: absolute(folder) for run, folder in folders.items()}
                        for seed, folders in snakemake.params.run_folders.items()},
        "figure_folders": {seed: absolute(folder) for seed, folder in snakemake.params.figure_folders.items()},
        "samples_figure": absolute(snakemake.input.samples),
        "tracked_runs": absolute(snakemake.input.tracked),
    }
    report.render(snakemake.input.template, snakemake.output.notebook, snakemake.output.html, parameters)
