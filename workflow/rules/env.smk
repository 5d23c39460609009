rule env_check:
    input:
        package_code("envinfo"),
    output:
        "results/env.json",
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
