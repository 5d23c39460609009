rule fashion_mnist:
    input:
        script_code("fashion_mnist"),
    output:
        files=FASHION_FILES,
        manifest=f"{FASHION['dir']}/{layout.DATA_MANIFEST}",
    log:
        "logs/data/fashion_mnist.log",
    benchmark:
        "results/benchmarks/jobs/fashion_mnist/fashion_mnist.tsv"
    # Training is the critical path: it and the data it needs go before the side jobs.
    priority: 10
    conda:
        ENVIRONMENT
    params:
        source=FASHION,
    script:
        "../scripts/fashion_mnist.py"


rule synthetic_data:
    input:
        script_code("synthetic_data"),
    output:
        arrays=layout.SYNTHETIC_DATA,
        description=layout.SYNTHETIC_DESCRIPTION,
    log:
        "logs/data/synthetic_data-{digest}.log",
    benchmark:
        "results/benchmarks/jobs/synthetic_data/{digest}.tsv"
    # Training is the critical path: it and the data it needs go before the side jobs.
    priority: 10
    conda:
        ENVIRONMENT
    params:
        synthetic=synthetic_set,
    script:
        "../scripts/synthetic_data.py"
