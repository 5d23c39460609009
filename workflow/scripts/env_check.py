"""Snakemake adapter: record the environment in results/env.json."""

from nndl.files import write_json
from nndl.joblog import job_log
from nndl.learn import environment

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    info = environment.collect(snakemake.params.device)
    print(environment.summary(info), file=log)
    write_json(info, snakemake.output[0])
