rule env_check:
    input:
        script_code("env_check"),
    output:
        layout.ENV_JSON,
    log:
        "logs/env_check.log",
    benchmark:
        "results/benchmarks/jobs/env_check/env_check.tsv"
    conda:
        ENVIRONMENT
    params:
        device=config["device"],
    script:
        "../scripts/env_check.py"
