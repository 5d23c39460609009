"""Snakemake adapter: acquire and verify Fashion-MNIST (or generate the small stand-in)."""

from pathlib import Path

from nndl.data.acquire import prepare
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    manifest = prepare(Path(snakemake.output.manifest).parent, snakemake.params.source, log)
    write_json(manifest, snakemake.output.manifest)
