"""Snakemake adapter: every figure of one seed, from the saved histories, metrics and predictions."""

from pathlib import Path

from nndl import figures
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    run_folders = {Path(path).parent.parent.name: Path(path).parent for path in snakemake.input.runs}
    written = figures.draw_seed(run_folders, Path(snakemake.output.comparison).parent,
                                snakemake.params.labels, snakemake.params.formats)
    print("\n".join(map(str, written)), file=log)
