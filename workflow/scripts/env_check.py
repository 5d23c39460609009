"""Snakemake adapter: record the environment in results/env.json."""

from nndl import envinfo
from nndl.files import write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    info = envinfo.collect(snakemake.params.device)
    print(envinfo.summary(info), file=log)
    write_json(info, snakemake.output[0])
