rule env_check:
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


rule fashion_mnist:
    input:
        package_modules("fashion_mnist", "idx", "download"),
    output:
        files=expand("{folder}/{name}", folder=FASHION["dir"], name=FASHION_FILES),
        manifest=f"{FASHION['dir']}/manifest.json",
    log:
        "logs/data/fashion_mnist.log",
    benchmark:
        "results/benchmarks/jobs/fashion_mnist/fashion_mnist.tsv"
    conda:
        ENVIRONMENT
    params:
        source=FASHION,
    script:
        "../scripts/fashion_mnist.py"


rule synthetic_data:
    input:
        package_modules("synthetic"),
    output:
        arrays="resources/synthetic/linreg.npz",
        description="resources/synthetic/linreg.json",
    log:
        "logs/data/synthetic_data.log",
    benchmark:
        "results/benchmarks/jobs/synthetic_data/synthetic_data.tsv"
    conda:
        ENVIRONMENT
    params:
        synthetic=config["synthetic"],
    script:
        "../scripts/synthetic_data.py"
