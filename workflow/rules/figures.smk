# The sample grid, when a task of the config trains on images.
if IMAGES:

    rule figure_samples:
        input:
            manifest=FASHION_MANIFEST,
        output:
            png=report(
                f"{catalog.samples_stem()}.png",
                caption=CAPTIONS[catalog.SAMPLES.stem],
                category=catalog.SAMPLES.section,
            ),
            extra=figure_files(catalog.samples_stem(), extra=True),
        log:
            "logs/figures/fashion-mnist-samples.log",
        benchmark:
            "results/benchmarks/jobs/figure_samples/figure_samples.tsv"
        conda:
            ENVIRONMENT
        params:
            data=IMAGES.to_json(),
            labels=config["figures"]["labels"],
            formats=config["figures"]["formats"],
            code=rule_code("figure_samples"),
        script:
            "../scripts/figure_samples.py"


# Every figure of one seed, as nndl.report.catalog declares them.
rule figures:
    input:
        chunks=seed_chunk_manifests,
    output:
        **seed_figure_outputs(),
        manifest=catalog.figure_manifest("{seed}"),
        extra=seed_figures(extra=True),
    log:
        "logs/figures/seed-{seed}.log",
    benchmark:
        "results/benchmarks/jobs/figures/seed-{seed}.tsv"
    conda:
        ENVIRONMENT
    params:
        runs=job_only(seed_specs_json),
        specs=seed_digest,
        labels=config["figures"]["labels"],
        formats=config["figures"]["formats"],
        code=rule_code("figures"),
    script:
        "../scripts/figures.py"
