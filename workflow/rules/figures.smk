rule figure_samples:
    input:
        data=FASHION_FILES,
        code=script_code("figure_samples"),
    output:
        png=report(
            f"{layout.SAMPLES_STEM}.png",
            caption="../report/samples.rst",
            category="Data",
        ),
        extra=figure_files(layout.SAMPLES_STEM, extra=True),
    log:
        "logs/figures/fashion-mnist-samples.log",
    benchmark:
        "results/benchmarks/jobs/figure_samples/figure_samples.tsv"
    conda:
        ENVIRONMENT
    params:
        labels=config["figures"]["labels"],
        formats=config["figures"]["formats"],
    script:
        "../scripts/figure_samples.py"


rule figures:
    input:
        chunks=seed_chunk_manifests,
        code=script_code("figures"),
    output:
        manifest=f"{FIGURE_DIR}/{layout.FIGURES_MANIFEST}",
        curves=report(
            [seed_figure(f"softmax-{impl}-curves") for impl in layout.IMPLS],
            caption="../report/softmax_curves.rst",
            category="Softmax regression",
            subcategory="Training",
        ),
        comparison=report(
            seed_figure("softmax-comparison"),
            caption="../report/softmax_comparison.rst",
            category="Softmax regression",
            subcategory="Training",
        ),
        predictions=report(
            [seed_figure(f"softmax-{impl}-predictions") for impl in layout.IMPLS],
            caption="../report/softmax_predictions.rst",
            category="Softmax regression",
            subcategory="Predictions",
        ),
        confusion=report(
            [seed_figure(f"softmax-{impl}-confusion") for impl in layout.IMPLS],
            caption="../report/softmax_confusion.rst",
            category="Softmax regression",
            subcategory="Predictions",
        ),
        linreg_loss=report(
            seed_figure("linreg-loss"),
            caption="../report/linreg_loss.rst",
            category="Linear regression",
        ),
        linreg_trajectory=report(
            seed_figure("linreg-trajectory"),
            caption="../report/linreg_trajectory.rst",
            category="Linear regression",
        ),
        extra=seed_figures(extra=True),
    log:
        "logs/figures/seed-{seed}.log",
    benchmark:
        "results/benchmarks/jobs/figures/seed-{seed}.tsv"
    conda:
        ENVIRONMENT
    params:
        runs=seed_run_folders,
        labels=config["figures"]["labels"],
        formats=config["figures"]["formats"],
    script:
        "../scripts/figures.py"
