rule train_chunk:
    input:
        data=chunk_data,
        code=script_code("train_chunk"),
    output:
        layout.CHUNK_MANIFEST,
    log:
        "logs/train/{group}-{part}-of-{parts}.log",
    benchmark:
        "results/benchmarks/jobs/train_chunk/{group}-{part}-of-{parts}.tsv"
    # Training is the critical path: it and the data it needs go before the side jobs.
    priority: 10
    conda:
        ENVIRONMENT
    threads: config["train_threads"]
    params:
        runs=chunk_runs,
        experiment=config["mlflow"]["experiment"],
        source=script_path("train_chunk"),
    script:
        "../scripts/train_chunk.py"
