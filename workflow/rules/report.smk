rule summary_report:
    input:
        template="reports/summary.ipynb",
        env=names.ENV_JSON,
        chunks=DEFAULT_CHUNK_MANIFESTS,
        figures=expand(seed_figures(), seed=SEEDS),
        samples=SAMPLES_PNG,
        tracked=names.TRACKED_RUNS,
    output:
        notebook="results/report/summary.ipynb",
        html=report(
            names.SUMMARY_REPORT,
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
        # Links from the summary to the studies report: beside it, and inside Snakemake's report.
        studies_report=studies_report_links(),
        code=rule_code("summary_report", "reports/summary.ipynb"),
    script:
        "../scripts/summary_report.py"


# The last file the Snakefile includes: what the parse made (modules, config, plan, rules) lives
# until Snakemake ends, a dry run and a no-op rerun included (nndl.heap).
heap.loaded()
