"""Snakemake adapter: the grid of Fashion-MNIST training samples."""

from pathlib import Path

from nndl.joblog import job_log
from nndl.report import figures

with job_log(snakemake.log[0]):
    stem = Path(snakemake.output.png).with_suffix("")
    data_folder = Path(snakemake.input.manifest).parent  # beside the four files
    figures.draw_samples(data_folder, stem, snakemake.params.labels, snakemake.params.formats)
