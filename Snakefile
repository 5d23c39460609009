# nndl: the linear neural networks chapter of Dive into Deep Learning as a reproducible pipeline.
# This file is an index: the config, the rule files, and the final targets.


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
