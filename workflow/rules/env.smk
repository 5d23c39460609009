rule env_check:
    output:
        names.ENV_JSON,
    log:
        "logs/env_check.log",
    benchmark:
        "results/benchmarks/jobs/env_check/env_check.tsv"
    conda:
        ENVIRONMENT
    params:
        device=config["device"],
        code=rule_code("env_check"),
    script:
        "../scripts/env_check.py"
