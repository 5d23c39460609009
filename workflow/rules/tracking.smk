rule tracking_store:
    input:
        script_code("tracking_store"),
    output:
        layout.EXPERIMENT_JSON,
    log:
        "logs/tracking/store.log",
    benchmark:
        "results/benchmarks/jobs/tracking_store/tracking_store.tsv"
    conda:
        ENVIRONMENT
    params:
        experiment=config["mlflow"]["experiment"],
    script:
        "../scripts/tracking_store.py"


rule log_figures:
    input:
        chunks=CHUNK_MANIFESTS,
        figures=expand(seed_figures(), seed=SEEDS),
        extra=expand(seed_figures(extra=True), seed=SEEDS),
        manifests=expand(f"{FIGURE_DIR}/{layout.FIGURES_MANIFEST}", seed=SEEDS),
        samples=figure_files(layout.SAMPLES_STEM),
        samples_extra=figure_files(layout.SAMPLES_STEM, extra=True),
        code=script_code("log_figures"),
    output:
        layout.TRACKED_RUNS,
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
