# Studies (`studies:` in the config, see config/exercises.yaml): each trains its grid through the
# train_chunk rule (whose jobs nest the runs under the study's MLflow parent run), then gets a
# summary (table, answer, figures) and a section of results/report/studies.html.


rule study_summary:
    input:
        chunks=study_chunk_manifests,
    output:
        **study_figure_outputs(),
        summary=names.STUDY_SUMMARY,
        table=names.STUDY_TABLE,
        extra=study_figures(extra=True),
    log:
        "logs/studies/{study}/summary.log",
    benchmark:
        "results/benchmarks/jobs/study_summary/{study}.tsv"
    conda:
        ENVIRONMENT
    params:
        study=study_definition,
        runs=job_only(study_specs_json),
        specs=study_digest,
        formats=config["figures"]["formats"],
        project=PROJECT,
        code=rule_code("study_summary"),
    script:
        "../scripts/study_summary.py"


rule log_studies:
    input:
        summaries=expand(names.STUDY_SUMMARY, study=STUDIES),
    output:
        names.LOGGED_STUDIES,
    log:
        "logs/tracking/log_studies.log",
    benchmark:
        "results/benchmarks/jobs/log_studies/log_studies.tsv"
    conda:
        ENVIRONMENT
    params:
        experiment=config["mlflow"]["experiment"],
        project=PROJECT,
        code=rule_code("log_studies"),
    script:
        "../scripts/log_studies.py"


rule studies_report:
    input:
        template="reports/studies.ipynb",
        summaries=expand(names.STUDY_SUMMARY, study=STUDIES),
        tables=expand(names.STUDY_TABLE, study=STUDIES),
        figures=expand(study_figures(), study=STUDIES),
    output:
        notebook="results/report/studies.ipynb",
        html=report(
            names.STUDIES_REPORT,
            caption="../report/studies.rst",
            category="Report",
        ),
    log:
        "logs/report/studies.log",
    benchmark:
        "results/benchmarks/jobs/studies_report/studies_report.tsv"
    conda:
        ENVIRONMENT
    params:
        code=rule_code("studies_report", "reports/studies.ipynb"),
    script:
        "../scripts/studies_report.py"
