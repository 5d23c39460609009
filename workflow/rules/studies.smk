# Studies (`studies:` in the config, see config/exercises.yaml): each trains its grid through the
# train_chunk rule (whose jobs nest the runs under the study's MLflow parent run), then gets a
# summary (table, answer, figures) and a section of results/report/studies.html.


rule study_summary:
    input:
        chunks=study_chunk_manifests,
        code=script_code("study_summary"),
    output:
        summary=layout.STUDY_SUMMARY,
        figures=report(
            study_figures(),
            caption="../report/study.rst",
            category="Studies",
            subcategory="{study}",
        ),
        extra=study_figures(extra=True),
    log:
        "logs/studies/{study}/summary.log",
    benchmark:
        "results/benchmarks/jobs/study_summary/{study}.tsv"
    conda:
        ENVIRONMENT
    params:
        study=study_definition,
        runs=study_runs,
        formats=config["figures"]["formats"],
    script:
        "../scripts/study_summary.py"


rule log_studies:
    input:
        summaries=expand(layout.STUDY_SUMMARY, study=STUDIES),
        code=script_code("log_studies"),
    output:
        layout.LOGGED_STUDIES,
    log:
        "logs/tracking/log_studies.log",
    benchmark:
        "results/benchmarks/jobs/log_studies/log_studies.tsv"
    conda:
        ENVIRONMENT
    params:
        experiment=config["mlflow"]["experiment"],
    script:
        "../scripts/log_studies.py"


rule studies_report:
    input:
        template="reports/studies.ipynb",
        summaries=expand(layout.STUDY_SUMMARY, study=STUDIES),
        figures=expand(study_figures(), study=STUDIES),
        code=script_code("studies_report", "reports/studies.ipynb"),
    output:
        notebook="results/report/studies.ipynb",
        html=report(
            layout.STUDIES_REPORT,
            caption="../report/studies.rst",
            category="Report",
        ),
    log:
        "logs/report/studies.log",
    benchmark:
        "results/benchmarks/jobs/studies_report/studies_report.tsv"
    conda:
        ENVIRONMENT
    script:
        "../scripts/studies_report.py"
