"""What the workflow's parse-time check of the record costs on a large project: the one query that
asks the store which run keys have a live, whole record of this project (nndl.tracking.probe), and
the check of every finished run's files against its record (nndl.runs.checks: stat, and SHA-256
where a file's size or mtime changed since the last check).

    python -m benchmarks.store_check [--runs 5000] [--repeats 5]

Builds a throwaway project of N linreg study runs (default 5,000): an sqlite MLflow store holding
one recorded run per key (made through MLflow, as the jobs make them) and a run folder per run with
its four files and its record (sizes as a linreg run's). Then times, interleaved with Snakemake's
own no-op on a one-rule workflow (the floor every parse pays): the query, the files' first check
(every file hashed) and a warm check (stat only), medians over --repeats. The no-op rerun of the
default pipeline against the same floor is benchmarks.noop_rerun.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import common
from benchmarks.noop_rerun import one_rule_workflow
from benchmarks.project import snakemake

PROJECT = "p-benchmark"
EXPERIMENT = "store-check"


def study_specs(runs: int) -> list:
    """The specs of a linreg study of `runs` runs (learning rates x 2 seeds) on the small config."""
    import yaml

    from nndl.config.validate import validate
    from nndl.runs.plan import resolve_runs

    config = yaml.safe_load((common.ROOT / "config" / "small.yaml").read_text())
    config["studies"] = [{"name": "many", "question": "q?", "task": "linreg", "impls": ["scratch"],
                          "vary": {"learning_rate": [round(0.001 * (index + 1), 6) for index in range(runs // 2)]},
                          "seeds": [0, 1]}]
    config["max_runs"] = runs + 10
    return [spec for spec in resolve_runs(validate(config, common.SCHEMA)) if spec.study]


def make_project(folder: Path, runs: int) -> list:
    """The specs of `runs` study runs, each with its files, its record and its MLflow run, in `folder`."""
    from mlflow.tracking import MlflowClient

    from nndl.files import write_json
    from nndl.runs import names, record
    from nndl.tracking.store import ensure_experiment
    from nndl.tracking.tags import PROJECT_TAG, RECORDED_TAG, RUN_KEY_TAG, WHOLE

    specs = study_specs(runs)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    experiment_id = ensure_experiment(uri, EXPERIMENT)
    client = MlflowClient(tracking_uri=uri)
    history = {"epochs": [{"epoch": epoch, "train/loss": 0.1 / epoch} for epoch in range(1, 4)]}
    previous = Path.cwd()
    os.chdir(folder)  # the specs' folders are relative to the project
    try:
        for index, spec in enumerate(specs):
            Path(spec.dir).mkdir(parents=True)
            (Path(spec.dir) / names.MODEL).write_bytes(os.urandom(1200))  # a linreg model.pt's size
            for name, content in ((names.HISTORY, history), (names.METRICS, {"summary": {"final/loss": index}}),
                                  (names.PREDICTIONS, {"rows": list(range(40))})):
                write_json(content, Path(spec.dir) / name)
            made = record.new(spec, record.run_key(spec, "code", "data"), "code", "data", None, "FINISHED")
            record.write(made, spec.dir)
            client.create_run(experiment_id, run_name=spec.name,
                              tags={PROJECT_TAG: PROJECT, RUN_KEY_TAG: made.key, RECORDED_TAG: WHOLE})
            if (index + 1) % 1000 == 0:
                common.say(f"  made {index + 1} of {len(specs)} runs")
    finally:
        os.chdir(previous)
    return specs


def time_checks(folder: Path, specs: list[dict], floor_folder: Path, repeats: int) -> dict[str, list[float]]:
    """{'query', 'cold', 'warm', 'floor': seconds of each repeat}, the checks run in `folder`."""
    from nndl.files import write_json
    from nndl.runs import checks, chunks, names
    from nndl.tracking.probe import read_store

    previous = Path.cwd()
    os.chdir(folder)
    try:
        cut = chunks.chunk_ids(specs, 60)
        pairs = chunks.members_by_chunk(specs, cut)  # once, as the workflow does (nndl.runs.chunks.ChunkPlan)
        for chunk in cut:  # every chunk finished
            write_json({"runs": []}, names.chunk_manifest(chunk))
        uri, where = f"sqlite:///{folder / 'mlflow.db'}", f"experiment {EXPERIMENT!r}"
        times: dict[str, list[float]] = {"query": [], "cold": [], "warm": [], "floor": []}
        for repeat in range(repeats):
            started = time.perf_counter()
            state = read_store(uri, EXPERIMENT, PROJECT, verify=False)
            times["query"].append(time.perf_counter() - started)
            Path(names.HASHED_FILES).unlink(missing_ok=True)
            for kind in ("cold", "warm"):  # every file hashed, then stat only
                started = time.perf_counter()
                reasons = checks.check_run_files(pairs, state, where)
                times[kind].append(time.perf_counter() - started)
                assert len(state.live_keys) == len(specs) and not reasons, reasons[:3]
            times["floor"].append(snakemake(floor_folder))
            common.say(f"  [{repeat + 1}/{repeats}] query {times['query'][-1] * 1000:.0f} ms, files' first check "
                       f"{times['cold'][-1] * 1000:.0f} ms, warm check {times['warm'][-1] * 1000:.0f} ms; "
                       f"Snakemake one-rule no-op {times['floor'][-1]:.2f} s")
        return times
    finally:
        os.chdir(previous)


def measure(options) -> dict:
    runs, repeats = options.runs or 5000, options.repeats or 5
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "project"
        folder.mkdir()
        made = time.perf_counter()
        specs = make_project(folder, runs)
        common.say(f"  a project of {len(specs)} runs made in {time.perf_counter() - made:.0f} s (untimed)")
        times = time_checks(folder, specs, one_rule_workflow(Path(scratch) / "one-rule"), repeats)
    median = {name: statistics.median(values) for name, values in times.items()}
    share = (median["query"] + median["warm"]) / median["floor"]
    common.say(f"at {len(specs)} runs: the store's query {median['query'] * 1000:.0f} ms, the warm check of the "
               f"files {median['warm'] * 1000:.0f} ms (first check, every file hashed: {median['cold'] * 1000:.0f} "
               f"ms): together {share:.2f} x Snakemake's one-rule no-op ({median['floor']:.2f} s)")
    return {"runs": len(specs), **{f"{name}_s": values for name, values in times.items()},
            "verdicts": [common.verdict(f"query + warm check at {len(specs)} runs, as a share of Snakemake's "
                                        "one-rule no-op (<= 0.25: the no-op rerun's whole margin)", share, 0.25,
                                        share <= 0.25, **{f"{name}_median_s": value for name, value in median.items()})]}


if __name__ == "__main__":
    common.main("store_check", measure, __doc__)
