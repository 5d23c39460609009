"""Snakemake adapter: acquire and verify Fashion-MNIST (or generate the small stand-in)."""

from pathlib import Path

from nndl import fashion_mnist
from nndl.joblog import job_log

source = snakemake.params.source
with job_log(snakemake.log[0]) as log:
    folder = Path(snakemake.output.manifest).parent
    if source["generate"]:
        spec = source["generate"]
        manifest = fashion_mnist.generate_stand_in(folder, spec["train"], spec["test"], spec.get("seed", 0))
    else:
        manifest = fashion_mnist.acquire(
            folder, source["local_dir"], source["system_dir"], source["mirrors"],
            retries=source["retries"], timeout_s=source["timeout_s"], log=log,
        )
    fashion_mnist.write_manifest(manifest, snakemake.output.manifest)
