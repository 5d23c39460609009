"""Snakemake adapter: acquire and verify Fashion-MNIST (or generate the small stand-in)."""

from pathlib import Path

from nndl.data import acquire, stand_in
from nndl.files import write_json
from nndl.joblog import job_log

source = snakemake.params.source
with job_log(snakemake.log[0]) as log:
    folder = Path(snakemake.output.manifest).parent
    if source["generate"]:
        spec = source["generate"]
        manifest = stand_in.generate_stand_in(folder, spec["train"], spec["test"], spec.get("seed", 0))
    else:
        manifest = acquire.acquire(folder, source["local_dir"], source["system_dir"], source["mirrors"],
                                   retries=source["retries"], timeout_s=source["timeout_s"], log=log)
    write_json(manifest, snakemake.output.manifest)
