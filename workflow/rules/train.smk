rule tracking_store:
    output:
        "results/tracking/experiment.json",
    log:
        "logs/tracking_store.log",
    benchmark:
        "results/benchmarks/jobs/tracking_store/tracking_store.tsv"
    conda:
        ENVIRONMENT
    params:
        experiment=config["mlflow"]["experiment"],
    script:
        "../scripts/tracking_store.py"


rule train:
    input:
        data=task_data,
        store="results/tracking/experiment.json",
        code=package_modules("scratch", "models", "training", "datasets"),
    output:
        model=f"{RUN_DIR}/model.pt",
        history=f"{RUN_DIR}/history.json",
        run_id=f"{RUN_DIR}/run_id.txt",
    log:
        "logs/train/{task}-{impl}/seed-{seed}.log",
    benchmark:
        "results/benchmarks/jobs/train/{task}-{impl}-seed-{seed}.tsv"
    conda:
        ENVIRONMENT
    threads: config["train_threads"]
    params:
        data=task_data_path,
        settings=run_settings,
    script:
        "../scripts/train.py"


rule evaluate:
    input:
        data=task_data,
        model=f"{RUN_DIR}/model.pt",
        run_id=f"{RUN_DIR}/run_id.txt",
        code=package_modules("evaluation"),
    output:
        metrics=f"{RUN_DIR}/metrics.json",
        predictions=f"{RUN_DIR}/predictions.json",
    log:
        "logs/evaluate/{task}-{impl}/seed-{seed}.log",
    benchmark:
        "results/benchmarks/jobs/evaluate/{task}-{impl}-seed-{seed}.tsv"
    conda:
        ENVIRONMENT
    threads: config["train_threads"]
    params:
        data=task_data_path,
        n_predictions=config["evaluation"]["n_predictions"],
    script:
        "../scripts/evaluate.py"
