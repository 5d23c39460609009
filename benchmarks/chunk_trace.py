"""Which package modules one run of a chunk job passes through, in order, from a trace of the job.

Trains the default runs of one task on config/small.yaml (its generated Fashion-MNIST stand-in, or
its synthetic data) in a fresh folder and sqlite store, as a chunk job does (nndl.runs.chunk_job),
with a profile hook on the job's thread. For each run it prints the modules the run's stage function
calls, the modules entered below them, and the stages (data, learn, runs, tracking) in the order they
are entered: each once. Spec and registry types (nndl.tasks, nndl.data.sources) and the core
helpers (nndl.files, nndl.interrupt, ...) are data and tools, not stages.

    .venv/bin/python -m benchmarks.chunk_trace [--task softmax]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile

import yaml

from benchmarks.common import ROOT, SCHEMA

STAGE_FUNCTION = "_train_run"  # nndl.runs.chunk_job: one run, each stage once
NOT_STAGES = ("nndl.tasks", "nndl.data.sources", "nndl.files", "nndl.interrupt", "nndl.errors", "nndl.values")


def stage(module: str) -> str | None:
    if module == "nndl.runs.chunk_job" or module.startswith(NOT_STAGES) or module.count(".") < 1:
        return None
    return module.split(".")[1]


STAGES = ("data", "learn", "runs", "tracking")


class Trace:
    """Call events of nndl modules while a run's stage function runs (this thread only: the store's
    delivery thread is the tracking's background work). Each call is put down to the stage the run
    function entered it through (the outermost package frame below it), and to its own stage."""

    def __init__(self):
        self.runs: list[dict] = []

    def __call__(self, frame, event, arg):
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if frame.f_code.co_name == STAGE_FUNCTION and module == "nndl.runs.chunk_job":
            self.runs.append({"name": frame.f_locals["spec"].name, "through": [], "up": [], "below": {}})
            return
        through = _entered_through(frame)
        if not self.runs or through is None or not module.startswith("nndl"):
            return
        run = self.runs[-1]
        if stage(through) and (not run["through"] or run["through"][-1] != through):
            run["through"].append(through)
        below = run["below"].setdefault(through, [])
        if module != through and stage(module) and module not in below:
            below.append(module)
        own, outer = stage(module), stage(through)
        if own in STAGES and outer in STAGES and STAGES.index(own) > STAGES.index(outer):
            run["up"].append(f"{through} -> {module}.{frame.f_code.co_name}")


def _entered_through(frame) -> str | None:
    """The module of the outermost package frame below the stage function (chunk_job's own helpers
    are transparent); None outside it."""
    outermost = None
    while frame is not None:
        if frame.f_code.co_name == STAGE_FUNCTION:
            return outermost
        module = frame.f_globals.get("__name__", "")
        if module.startswith("nndl") and module != "nndl.runs.chunk_job":
            outermost = module
        frame = frame.f_back
    return None


def collapse(items: list) -> list:
    present = [item for item in items if item is not None]
    return [item for index, item in enumerate(present) if index == 0 or present[index - 1] != item]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--task", default="softmax")
    task = options.parse_args().task
    from nndl.config.validate import validate
    from nndl.runs.chunk_job import run_chunk
    from nndl.runs.plan import resolve_runs
    from tests.conftest import make_data

    raw = yaml.safe_load((ROOT / "config" / "small.yaml").read_text())
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder}/mlflow.db"
        make_data(raw)
        runs = [spec for spec in resolve_runs(validate(raw, SCHEMA)) if spec.task == task and spec.study is None]
        trace = Trace()
        sys.setprofile(trace)
        try:
            run_chunk(runs, "chunk.json", "trace", "p-trace", ROOT, "benchmarks/chunk_trace.py", log=io.StringIO(),
                      console=io.StringIO())
        finally:
            sys.setprofile(None)
    for run in trace.runs:
        stages = collapse([stage(module) for module in run["through"]])
        print(f"{run['name']}:")
        print(f"  modules, in order: {' -> '.join(module for module in run['through'] if stage(module))}")
        for module, entered in run["below"].items():
            if entered:
                print(f"    below {module}: {', '.join(entered)}")
        print(f"  stages: {' -> '.join(stages)}; each entered once: {len(stages) == len(set(stages))}; "
              f"calls back up a stage: {run['up'] or 'none'}")


if __name__ == "__main__":
    main()
