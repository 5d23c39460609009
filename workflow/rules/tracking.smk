rule track_runs:
    input:
        chunks=DEFAULT_CHUNK_MANIFESTS,
        code=script_code("track_runs"),
    output:
        layout.TRACKED_RUNS,
    log:
        "logs/tracking/track_runs.log",
    benchmark:
        "results/benchmarks/jobs/track_runs/track_runs.tsv"
    conda:
        ENVIRONMENT
    params:
        experiment=config["mlflow"]["experiment"],
    script:
        "../scripts/track_runs.py"


rule log_figures:
    input:
        chunks=DEFAULT_CHUNK_MANIFESTS,
        figures=expand(seed_figures(), seed=SEEDS),
        extra=expand(seed_figures(extra=True), seed=SEEDS),
        manifests=expand(f"{FIGURE_DIR}/{layout.FIGURES_MANIFEST}", seed=SEEDS),
        samples=figure_files(layout.SAMPLES_STEM),
        samples_extra=figure_files(layout.SAMPLES_STEM, extra=True),
        code=script_code("log_figures"),
    output:
        layout.LOGGED_FIGURES,
    log:
        "logs/tracking/log_figures.log",
    benchmark:
        "results/benchmarks/jobs/log_figures/log_figures.tsv"
    conda:
        ENVIRONMENT
    params:
        experiment=config["mlflow"]["experiment"],
    script:
        "../scripts/log_figures.py"
