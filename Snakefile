# nndl: the linear neural networks chapter of Dive into Deep Learning as a reproducible pipeline.
# This file is an index: the config, the rule files, and the final targets.
import gc


include: "workflow/rules/config.smk"


configfile: DEFAULT_CONFIG


include: "workflow/rules/common.smk"


# workflow/report/workflow.rst, with the registry's tasks written in (see common.smk).
report: INTRO


include: "workflow/rules/env.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),


# What the parse made (the modules, the config, the plan, the rules) lives until Snakemake ends:
# frozen out of the collector's reach, its full collections and Snakemake's exit do not walk it
# again (0.2-0.3 s of each run; each job does the same: nndl.joblog).
gc.freeze()
