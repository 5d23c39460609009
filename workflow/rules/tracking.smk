rule track_runs:
    input:
        chunks=DEFAULT_CHUNK_MANIFESTS,
    output:
        names.TRACKED_RUNS,
    log:
        "logs/tracking/track_runs.log",
    benchmark:
        "results/benchmarks/jobs/track_runs/track_runs.tsv"
    conda:
        ENVIRONMENT
    params:
        runs=job_only(lambda wildcards: DEFAULT_RUNS_JSON),
        specs=DEFAULT_RUNS_DIGEST,
        experiment=config["mlflow"]["experiment"],
        project=PROJECT,
        code=rule_code("track_runs"),
    script:
        "../scripts/track_runs.py"


rule log_figures:
    input:
        chunks=DEFAULT_CHUNK_MANIFESTS,
        figures=expand(seed_figures(), seed=SEEDS),
        extra=expand(seed_figures(extra=True), seed=SEEDS),
        manifests=expand(catalog.figure_manifest("{seed}"), seed=SEEDS),
        samples=SAMPLES_PNG,
        samples_extra=SAMPLES_EXTRA,
    output:
        names.LOGGED_FIGURES,
    log:
        "logs/tracking/log_figures.log",
    benchmark:
        "results/benchmarks/jobs/log_figures/log_figures.tsv"
    conda:
        ENVIRONMENT
    params:
        seeds=SEEDS,
        runs=job_only(lambda wildcards: DEFAULT_RUNS_JSON),
        specs=DEFAULT_RUNS_DIGEST,
        experiment=config["mlflow"]["experiment"],
        project=PROJECT,
        code=rule_code("log_figures"),
    script:
        "../scripts/log_figures.py"
