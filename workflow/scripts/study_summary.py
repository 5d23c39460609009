"""Snakemake adapter: a study's table, answer and figures, from its runs' files (no training, no MLflow)."""

from nndl.studies import summarise_study
from nndl.files import read_json, write_json
from nndl.joblog import job_log

with job_log(snakemake.log[0]) as log:
    summary = summarise_study(snakemake.params.study, snakemake.params.runs, read_json(snakemake.input.parent),
                              snakemake.params.formats)
    write_json(summary, snakemake.output.summary)
    print(f"{len(summary['runs'])} runs in {summary['seconds']:.1f} s. {summary['answer']}", file=log)
