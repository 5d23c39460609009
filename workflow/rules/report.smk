rule figure_samples:
    input:
        data=expand("{folder}/{name}", folder=FASHION["dir"], name=FASHION_FILES),
        code=package_modules("plots", "figures", "fonts"),
    output:
        png=report(
            "results/figures/fashion-mnist-samples.png",
            caption="../report/samples.rst",
            category="Data",
        ),
        extra=figure_files("results/figures/fashion-mnist-samples", extra=True),
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
        runs=[path for name in RUN_FILES for path in seed_run_outputs(name)],
        code=package_modules("plots", "figures", "fonts"),
    output:
        curves=report(
            expand(
                f"{FIGURE_DIR}/softmax-{{impl}}-curves.png",
                impl=IMPLS,
                allow_missing=True,
            ),
            caption="../report/softmax_curves.rst",
            category="Softmax regression",
            subcategory="Training",
        ),
        comparison=report(
            f"{FIGURE_DIR}/softmax-comparison.png",
            caption="../report/softmax_comparison.rst",
            category="Softmax regression",
            subcategory="Training",
        ),
        predictions=report(
            expand(
                f"{FIGURE_DIR}/softmax-{{impl}}-predictions.png",
                impl=IMPLS,
                allow_missing=True,
            ),
            caption="../report/softmax_predictions.rst",
            category="Softmax regression",
            subcategory="Predictions",
        ),
        confusion=report(
            expand(
                f"{FIGURE_DIR}/softmax-{{impl}}-confusion.png",
                impl=IMPLS,
                allow_missing=True,
            ),
            caption="../report/softmax_confusion.rst",
            category="Softmax regression",
            subcategory="Predictions",
        ),
        linreg_loss=report(
            f"{FIGURE_DIR}/linreg-loss.png",
            caption="../report/linreg_loss.rst",
            category="Linear regression",
        ),
        linreg_trajectory=report(
            f"{FIGURE_DIR}/linreg-trajectory.png",
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
        labels=config["figures"]["labels"],
        formats=config["figures"]["formats"],
    script:
        "../scripts/figures.py"


rule log_results:
    input:
        metrics=seed_run_outputs("metrics.json"),
        predictions=seed_run_outputs("predictions.json"),
        run_ids=seed_run_outputs("run_id.txt"),
        figures=seed_figures(extra=False),
        extra=seed_figures(extra=True),
        samples=figure_files("results/figures/fashion-mnist-samples"),
    output:
        "results/tracking/seed-{seed}.json",
    log:
        "logs/tracking/seed-{seed}.log",
    benchmark:
        "results/benchmarks/jobs/log_results/seed-{seed}.tsv"
    conda:
        ENVIRONMENT
    params:
        experiment=config["mlflow"]["experiment"],
    script:
        "../scripts/log_results.py"


rule summary_report:
    input:
        template="reports/summary.ipynb",
        env="results/env.json",
        runs=[path for name in RUN_FILES for path in run_outputs(name)],
        figures=expand(seed_figures(extra=False), seed=SEEDS),
        samples="results/figures/fashion-mnist-samples.png",
        tracked=expand("results/tracking/seed-{seed}.json", seed=SEEDS),
        code=package_modules("report"),
    output:
        notebook="results/report/summary.ipynb",
        html=report(
            "results/report/summary.html",
            caption="../report/summary.rst",
            category="Report",
        ),
    log:
        "logs/report/summary.log",
    benchmark:
        "results/benchmarks/jobs/summary_report/summary_report.tsv"
    conda:
        ENVIRONMENT
    params:
        seeds=SEEDS,
        experiment=config["mlflow"]["experiment"],
    script:
        "../scripts/summary_report.py"
