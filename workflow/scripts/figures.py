"""Snakemake adapter: every figure of one seed, from its runs' histories, metrics and predictions."""

from nndl.files import write_json
from nndl.joblog import job_log
from nndl.report import figures
from nndl.tasks.runspec import RunSpec

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    specs = [RunSpec.from_json(spec) for spec in snakemake.params.runs]
    manifest = figures.draw_seed(specs, int(snakemake.wildcards.seed), snakemake.params.labels,
                                 snakemake.params.formats)
    write_json(manifest, snakemake.output.manifest)
    print(f"{len(manifest['figures'])} figures in {manifest['seconds']:.1f} s", file=log)
