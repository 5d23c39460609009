"""The floor of the cold pipeline: the same work in one Python process, with no Snakemake.

    python -m benchmarks.one_process FOLDER

FOLDER is a copy of the workflow whose data is already acquired (benchmarks.project makes one).
Imports once, then: env check, synthetic data, the MLflow store, the default runs trained,
evaluated and logged chunk by chunk (nndl.runs.chunk_job.run_chunk, as the chunk jobs do), every
figure, the figures logged into the runs, the runs read back, and the summary report. Prints the
wall time of each step and writes FOLDER/one-process.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

started = time.perf_counter()

from nndl.config.validate import load
from nndl.data import sources, synthetic
from nndl.files import write_json
from nndl.learn import environment
from nndl.report import catalog, figures, notebook
from nndl.runs import chunks, names, plan, specs
from nndl.runs.project import project_identity
from nndl.runs.recorded import mlflow_runs
from nndl.runs.chunk_job import run_chunk
from nndl.tracking.attach import log_files
from nndl.tracking.readback import store_summary
from nndl.tracking.store import ensure_experiment
from nndl.tracking.uri import export_tracking_uri

SOURCE = "benchmarks/one_process.py"


class Steps(dict):
    """{step: seconds}, each step timed as it runs."""

    def __call__(self, name, function, *args, **kwargs):
        begun = time.perf_counter()
        value = function(*args, **kwargs)
        self[name] = time.perf_counter() - begun
        return value


def prepare(cfg: dict, folder: Path, steps: Steps) -> tuple[str, list]:
    """Env check, synthetic data sets, the MLflow store: (tracking URI, the default runs)."""
    uri = export_tracking_uri(cfg["mlflow"]["tracking_uri"], folder)
    steps("env_check", lambda: write_json(environment.collect(cfg["device"]), names.ENV_JSON))
    runs = specs.default_runs(plan.resolve_runs(cfg))
    for digest, data in specs.synthetic_datasets(runs).items():
        dataset = steps(f"synthetic_data_{digest}", synthetic.dataset_from, data)
        synthetic.save_dataset(dataset, sources.SYNTHETIC_DATA.format(digest=digest),
                               sources.SYNTHETIC_DESCRIPTION.format(digest=digest), data)
    steps("tracking_store", ensure_experiment, uri, cfg["mlflow"]["experiment"])
    return uri, runs


def train(cfg: dict, folder: Path, runs: list, steps: Steps) -> None:
    for chunk in chunks.chunk_ids(runs, cfg["chunk_seconds"]):
        members = chunks.chunk_members(runs, **chunk)
        steps(f"train_{chunk['group']}-{chunk['part']}", run_chunk, members, names.chunk_manifest(chunk),
              cfg["mlflow"]["experiment"], project_identity("."), folder, SOURCE, log=sys.stderr,
              console=sys.stderr)


def draw_and_log(cfg: dict, uri: str, runs: list, steps: Steps) -> None:
    labels, formats, seeds = cfg["figures"]["labels"], cfg["figures"]["formats"], cfg["seeds"]
    samples = steps("figure_samples", figures.draw_samples, catalog.images_of(runs), catalog.samples_stem(), labels,
                    formats)
    by_seed = {seed: specs.seed_runs(runs, seed) for seed in seeds}
    manifests = {}
    for seed in seeds:
        manifests[seed] = steps(f"figures_seed{seed}", figures.draw_seed, list(by_seed[seed].values()), seed,
                                labels, formats)
        write_json(manifests[seed], catalog.figure_manifest(seed))
    by_folder = catalog.files_by_run(manifests, by_seed, [str(path) for path in samples])
    project = project_identity(".")
    ids = mlflow_runs(uri, cfg["mlflow"]["experiment"], project, [*by_folder, *(spec.dir for spec in runs)])
    files = {ids[str(folder)]: [(path, "figures") for path in paths] for folder, paths in by_folder.items()}
    steps("log_figures", log_files, uri, cfg["mlflow"]["experiment"], files)
    run_ids = {spec.name: ids.get(spec.dir) for spec in runs}
    write_json(steps("track_runs", store_summary, uri, cfg["mlflow"]["experiment"], project, run_ids),
               names.TRACKED_RUNS)


def report(cfg: dict, runs: list, steps: Steps) -> None:
    seeds = cfg["seeds"]
    parameters = notebook.parameters(
        names.ENV_JSON, seeds,
        {str(seed): {key: spec.dir for key, spec in specs.seed_runs(runs, seed).items()} for seed in seeds},
        {str(seed): names.figure_dir(seed) for seed in seeds}, [f"{catalog.samples_stem()}.png"], names.TRACKED_RUNS)
    steps("summary_report", notebook.render, "reports/summary.ipynb", "results/report/summary.ipynb",
          names.SUMMARY_REPORT, parameters)


def main(folder: Path) -> dict:
    os.chdir(folder)
    steps = Steps(imports=time.perf_counter() - started)
    cfg = load("config/config.yaml", "workflow/schemas/config.schema.yaml")
    uri, runs = prepare(cfg, folder, steps)
    train(cfg, folder, runs, steps)
    draw_and_log(cfg, uri, runs, steps)
    report(cfg, runs, steps)
    steps["total"] = time.perf_counter() - started
    return dict(steps)


if __name__ == "__main__":
    measured = main(Path(sys.argv[1]).resolve())
    for name, seconds in measured.items():
        print(f"{name:<22}{seconds:8.2f} s")
    (Path(sys.argv[1]) / "one-process.json").write_text(json.dumps(measured, indent=2) + "\n")
