rule summary_report:
    input:
        template="reports/summary.ipynb",
        env=layout.ENV_JSON,
        chunks=DEFAULT_CHUNK_MANIFESTS,
        figures=expand(seed_figures(), seed=SEEDS),
        samples=f"{layout.SAMPLES_STEM}.png",
        tracked=layout.TRACKED_RUNS,
        code=script_code("summary_report", "reports/summary.ipynb"),
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
        run_folders=report_run_folders(),
        figure_folders=report_figure_folders(),
        # A link from the summary to the studies report, beside it.
        studies_report=Path(layout.STUDIES_REPORT).name if STUDIES else None,
    script:
        "../scripts/summary_report.py"
