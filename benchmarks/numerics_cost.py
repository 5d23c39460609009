"""What the portable numerics cost, side by side with the fast ones, and whether they are portable
across thread counts.

    python -m benchmarks.numerics_cost [--quick] [--repeats 2] [--threads 1]

Each mode trains in a fresh process (its settings must be in the environment before torch loads:
nndl.numerics), fast and portable alternating, `--repeats` times each, on the full
Fashion-MNIST, with the pipeline's own specs and training code:
- the default config's softmax and mlp runs, scratch and concise, 3 epochs (2 with --quick): the
  median epoch time of each, and their ratio portable / fast;
- the exercises' two largest grids (config/exercises.yaml), one epoch a point, seed 0: `batch-lr`
  (softmax, 9 points) and `mlp-hidden-units` (16 to 1024 hidden units): their summed epoch times.
Then the default softmax and mlp runs again, portable, with 1 thread and with 2: their metrics
summaries must be bit-identical (or the thread count, part of a run's spec, is what makes them differ).

Target: portable within 1.10x of fast per epoch. Where it is not, `numerics: fast` stays the
config's default and `portable` is the setting the tests use (config/small.yaml).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import replace

import yaml

from benchmarks import common

TARGETS = {"portable_over_fast": 1.10}
DEFAULT_TASKS = ("softmax", "mlp")
GRIDS = ("batch-lr", "mlp-hidden-units")  # config/exercises.yaml's largest grids by arithmetic


def workloads(epochs: int) -> dict[str, list]:
    """{workload: [spec, ...]}: the default runs of DEFAULT_TASKS (`epochs` each) and each grid's
    points at seed 0 (one epoch each), as the pipeline resolves them, on the project's Fashion-MNIST."""
    from nndl.config.validate import validate
    from nndl.data.sources import FashionData
    from nndl.runs.plan import resolve_runs
    from benchmarks.project import dataset_folder

    folder = dataset_folder()
    data = FashionData(str(folder), str(folder / "manifest.json"), None)
    raw = yaml.safe_load((common.ROOT / "config" / "config.yaml").read_text())
    raw["studies"] = [study for study in yaml.safe_load((common.ROOT / "config" / "exercises.yaml").read_text())["studies"]
                      if study["name"] in GRIDS]
    runs = [replace(spec, data=data) for spec in resolve_runs(validate(raw, common.SCHEMA))]
    found = {f"{spec.task}-{spec.impl}": [spec.with_settings(epochs=epochs)]
             for spec in runs if spec.study is None and spec.task in DEFAULT_TASKS and spec.seed == 0}
    for grid in GRIDS:
        found[grid] = [spec.with_settings(epochs=1) for spec in runs
                       if spec.study and spec.study.name == grid and spec.seed == 0]
    return found


def child(mode: str, threads: int, epochs: int) -> None:
    """Train every workload in this process under `mode`; print their epoch times and summaries as JSON."""
    from nndl.numerics import prepare

    prepare(mode)  # before torch
    import torch

    from nndl.data.tensors import DataSets
    from nndl.learn.run import train_and_evaluate
    from nndl.learn.warmup import warm_up

    torch.set_num_threads(threads)
    device, datasets, results = torch.device("cpu"), DataSets(torch.device("cpu"), open(os.devnull, "w")), {}
    for name, specs in workloads(epochs).items():
        rows = []
        for spec in specs:
            spec = replace(spec, numerics=mode, threads=threads)
            data = datasets.load(spec.data, spec.input_scale)
            warm_up(spec, data, device)
            result = train_and_evaluate(spec, data, device)
            rows.append({"epoch_seconds": [epoch["epoch_seconds"] for epoch in result.history["epochs"]],
                         "summary": result.metrics["summary"]})
        results[name] = rows
    print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "workloads": results}))


def run_child(mode: str, threads: int, epochs: int) -> dict:
    from nndl.numerics import PORTABLE_ENVIRONMENT

    # The fast child gets none of the portable settings, whatever this process was started with.
    env = {key: value for key, value in os.environ.items() if key not in PORTABLE_ENVIRONMENT}
    command = [sys.executable, "-m", "benchmarks.numerics_cost", "--child", mode, str(threads), str(epochs)]
    output = subprocess.run(command, cwd=common.ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def epoch_time(rows: list[dict], default: bool) -> float:
    """A default run's median epoch (the first is its own warm-up's tail); a grid's summed epochs."""
    if default:
        return statistics.median(rows[0]["epoch_seconds"][1:] or rows[0]["epoch_seconds"])
    return sum(sum(row["epoch_seconds"]) for row in rows)


def measure(options) -> dict:
    epochs, repeats = (2 if options.quick else 3), options.repeats or (1 if options.quick else 2)
    times: dict[str, dict[str, list[float]]] = {}
    for repeat in range(repeats):
        for mode in (("fast", "portable") if repeat % 2 == 0 else ("portable", "fast")):
            common.say(f"  {mode}, {options.threads} thread(s), repeat {repeat + 1}/{repeats} ...")
            result = run_child(mode, options.threads, epochs)
            for name, rows in result["workloads"].items():
                times.setdefault(name, {}).setdefault(mode, []).append(epoch_time(rows, name not in GRIDS))
            common.say(f"    torch kernels {result['capability']}: " + ", ".join(
                f"{name} {statistics.median(by_mode[mode]):.3f} s" for name, by_mode in times.items()))
    ratios = {name: statistics.median(by_mode["portable"]) / statistics.median(by_mode["fast"])
              for name, by_mode in times.items()}
    for name, ratio in ratios.items():
        common.say(f"  {name}: portable / fast = {ratio:.2f}x")
    common.say("  portable with 1 and 2 threads ...")
    summaries = [{name: [row["summary"] for row in rows] for name, rows in run_child("portable", threads, 2)[
        "workloads"].items() if name not in GRIDS} for threads in (1, 2)]
    identical = summaries[0] == summaries[1]
    common.say(f"    metrics summaries {'bit-identical' if identical else 'DIFFER'} between 1 and 2 threads")
    worst = max(ratios.values())
    return {"epoch_seconds": times, "ratios": ratios, "threads_bit_identical": identical,
            "verdicts": [common.verdict("portable / fast per epoch, worst workload", worst,
                                        TARGETS["portable_over_fast"], worst <= TARGETS["portable_over_fast"],
                                        workloads=ratios)]}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        common.main("numerics_cost", measure, __doc__)
