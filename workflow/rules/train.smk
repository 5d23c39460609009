rule train_chunk:
    input:
        data=chunk_data,
        # Rewritten when the workflow finds one of the chunk's runs damaged: see nndl.runs.checks.
        check=checks.check_input,
    output:
        names.CHUNK_MANIFEST,
    log:
        "logs/train/{group}-{part}-of-{parts}.log",
    benchmark:
        "results/benchmarks/jobs/train_chunk/{group}-{part}-of-{parts}.tsv"
    # Training is the critical path: it and the data it needs go before the side jobs.
    priority: 10
    conda:
        ENVIRONMENT
    # The same config key gives each spec's threads, which the job uses.
    threads: config["train_threads"]
    params:
        runs=job_only(chunk_specs_json),
        specs=chunk_digest,
        experiment=config["mlflow"]["experiment"],
        project=PROJECT,
        record_timeout_s=config["mlflow"]["record_timeout_s"],
        source=script_path("train_chunk"),
        code=chunk_code,
    script:
        "../scripts/train_chunk.py"
