"""Snakemake adapter: a study's table, answer and figures, from its runs' files (no training, no MLflow)."""

from nndl.files import write_json
from nndl.joblog import job_log
from nndl.report.studies import recorded_parent, summarise_study
from nndl.tasks.runspec import RunSpec

with job_log(snakemake.log[0], writes=snakemake.output) as log:
    study = snakemake.params.study
    specs = [RunSpec.from_json(spec) for spec in snakemake.params.runs]
    summary = summarise_study(study, specs, recorded_parent(study["name"], snakemake.input.chunks),
                              snakemake.params.formats, snakemake.output.table, snakemake.params.project)
    write_json(summary, snakemake.output.summary)
    print(f"{len(summary['runs'])} runs in {summary['seconds']:.1f} s. {summary['answer']}", file=log)
