rule fashion_mnist:
    input:
        # Rewritten when a file of the copy is missing or damaged: see nndl.data.checks.
        check=FASHION_CHECK,
    output:
        manifest=FASHION_MANIFEST,
    log:
        "logs/data/fashion_mnist.log",
    benchmark:
        "results/benchmarks/jobs/fashion_mnist/fashion_mnist.tsv"
    # Training is the critical path: it and the data it needs go before the side jobs.
    priority: 10
    conda:
        ENVIRONMENT
    params:
        # What the data is: the real Fashion-MNIST (null) or the stand-in's size and seed.
        generate=FASHION["generate"],
        # Where a copy comes from: not a reason to rerun (see fashion_sources).
        source=fashion_sources,
        code=rule_code("fashion_mnist"),
    script:
        "../scripts/fashion_mnist.py"


rule synthetic_data:
    output:
        arrays=sources.SYNTHETIC_DATA,
        description=sources.SYNTHETIC_DESCRIPTION,
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
        code=rule_code("synthetic_data"),
    script:
        "../scripts/synthetic_data.py"
