"""Snakemake adapter: the grid of the classifiers' training samples (Fashion-MNIST, or the stand-in)."""

from pathlib import Path

from nndl.data.sources import FashionData
from nndl.joblog import job_log
from nndl.report import figures

with job_log(snakemake.log[0], writes=snakemake.output):
    stem = Path(snakemake.output.png).with_suffix("")
    data = FashionData.from_json(snakemake.params.data)  # its files are beside snakemake.input.manifest
    figures.draw_samples(data, stem, snakemake.params.labels, snakemake.params.formats)
