"""The floor of the cold pipeline: the same work in one Python process, with no Snakemake.

    .venv/bin/python benchmarks/one_process.py FOLDER

FOLDER is a copy of the workflow whose data is already acquired (benchmarks/run.py makes one). Imports
once, then: env check, synthetic data, the MLflow store, the four runs trained, evaluated and logged
(nndl.chunks, as the chunk jobs do), every figure, the figures logged into the runs, and the summary
report. Prints the wall time of each step and writes FOLDER/one-process.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

started = time.perf_counter()

from nndl import chunks, config, envinfo, figures, layout, report, results, specs, synthetic, tracking  # noqa: E402
from nndl.files import write_json  # noqa: E402


def main(folder: Path) -> dict:
    os.chdir(folder)
    steps = {"imports": time.perf_counter() - started}

    def step(name, function, *args, **kwargs):
        begun = time.perf_counter()
        value = function(*args, **kwargs)
        steps[name] = time.perf_counter() - begun
        return value

    cfg = config.load("config/config.yaml", "workflow/schemas/config.schema.yaml")
    uri = config.export_tracking_uri(cfg["mlflow"]["tracking_uri"], folder)
    step("env_check", lambda: write_json(envinfo.collect(cfg["device"]), layout.ENV_JSON))
    runs = specs.resolve_runs(cfg)
    [(digest, data)] = specs.synthetic_datasets(runs).items()  # the default config has one data set
    dataset = step("synthetic_data", synthetic.dataset_from, data)
    synthetic.save_dataset(dataset, layout.SYNTHETIC_DATA.format(digest=digest),
                           layout.SYNTHETIC_DESCRIPTION.format(digest=digest), data)
    experiment = cfg["mlflow"]["experiment"]
    step("tracking_store", tracking.ensure_experiment, uri, experiment)
    chunk_manifests = []
    for task in layout.TASKS:
        chunk_manifests.append(f"results/chunks/{task}.json")
        step(f"train_{task}", chunks.run_chunk, [spec for spec in runs if spec["task"] == task],
             chunk_manifests[-1], experiment, folder, cfg["train_threads"], source="benchmarks/one_process.py",
             log=sys.stderr, console=sys.stderr)
    labels, formats = cfg["figures"]["labels"], cfg["figures"]["formats"]
    step("figure_samples", figures.draw_samples, cfg["data"]["fashion_mnist"]["dir"], layout.SAMPLES_STEM,
         labels, formats)
    manifests = []
    for seed in cfg["seeds"]:
        manifest = step(f"figures_seed{seed}", figures.draw_seed, layout.seed_runs(seed), layout.figure_dir(seed),
                        labels, formats)
        manifests.append(Path(layout.figure_dir(seed)) / layout.FIGURES_MANIFEST)
        write_json(manifest, manifests[-1])
    files = results.figure_files_by_run(manifests, [f"{layout.SAMPLES_STEM}.{fmt}" for fmt in formats])
    step("log_figures", tracking.log_files, uri, experiment,
         {run_id: [(path, "figures") for path in paths] for run_id, paths in files.items()})
    write_json(tracking.store_summary(uri, experiment, results.chunk_run_ids(chunk_manifests)), layout.TRACKED_RUNS)
    parameters = report.parameters(layout.ENV_JSON, cfg["seeds"],
                                   {str(seed): layout.seed_runs(seed) for seed in cfg["seeds"]},
                                   {str(seed): layout.figure_dir(seed) for seed in cfg["seeds"]},
                                   f"{layout.SAMPLES_STEM}.png", layout.TRACKED_RUNS)
    step("summary_report", report.render, "reports/summary.ipynb", "results/report/summary.ipynb",
         "results/report/summary.html", parameters)
    steps["total"] = time.perf_counter() - started
    return steps


if __name__ == "__main__":
    measured = main(Path(sys.argv[1]).resolve())
    for name, seconds in measured.items():
        print(f"{name:<22}{seconds:8.2f} s")
    (Path(sys.argv[1]) / "one-process.json").write_text(json.dumps(measured, indent=2) + "\n")
