"""The cold pipeline on the default config against the same work in one Python process.

    python -m benchmarks.cold_pipeline [--repeats 3]

Each repeat: a fresh copy of the project, its data acquired (untimed), then the whole pipeline
cold; and another fresh copy run by benchmarks.one_process; alternating, so both see the same load
on a shared machine. Target: the median cold run <= 1.5x the median one-process run. Also stores
each rule's job times and the chunks' overhead per run (in the job, beyond training and evaluation).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks import common
from benchmarks.project import (
    environment,
    in_job_seconds,
    job_seconds,
    prepared_project,
    snakemake,
)

TARGETS = {"pipeline_over_one_process": 1.5, "chunk_overhead_per_run_s": 0.5}


def time_pipeline(base_config: str, seeds: list[int] | None = None) -> dict:
    """One cold run (data acquired untimed), with what its jobs measured."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = prepared_project(scratch, base_config, seeds)
        cold = snakemake(folder)
        return {"config": base_config, "seeds": seeds, "cold_s": cold, **in_job_seconds(folder),
                "job_seconds": job_seconds(folder)}


def time_one_process(base_config: str) -> dict:
    """The same work in one process (benchmarks.one_process), in a fresh copy."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = prepared_project(scratch, base_config)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "benchmarks.one_process", str(folder)], cwd=common.ROOT,
                       env=environment(folder), check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
        return {"wall_s": wall, "steps": json.loads((folder / "one-process.json").read_text())}


def measure(options) -> dict:
    repeats = options.repeats or (1 if options.quick else 3)
    pipelines, floors = [], []
    for repeat in range(repeats):
        pipelines.append(time_pipeline("config.yaml"))
        floors.append(time_one_process("config.yaml"))
        common.say(f"  [{repeat + 1}/{repeats}] cold pipeline {pipelines[-1]['cold_s']:.1f} s, one process "
                   f"{floors[-1]['wall_s']:.1f} s; chunk overhead per run "
                   f"{pipelines[-1]['chunk_overhead_per_run_s']:.2f} s")
    cold = statistics.median(row["cold_s"] for row in pipelines)
    floor = statistics.median(row["wall_s"] for row in floors)
    common.say(f"cold pipeline: median {cold:.1f} s vs one process median {floor:.1f} s = {cold / floor:.2f} x")
    overhead = pipelines[0]["chunk_overhead_per_run_s"]
    return {"pipelines": pipelines, "one_process": floors, "cold_s": cold, "one_process_s": floor,
            "verdicts": [
                common.verdict(f"cold pipeline, default config, <= 1.5x the same work in one process "
                               f"(median of {repeats} pairs)", cold / floor, TARGETS["pipeline_over_one_process"],
                               cold / floor <= TARGETS["pipeline_over_one_process"], pipeline_s=cold,
                               one_process_s=floor),
                common.verdict("a chunk's overhead per run on the default config (s)", overhead,
                               TARGETS["chunk_overhead_per_run_s"], overhead <= TARGETS["chunk_overhead_per_run_s"])]}


if __name__ == "__main__":
    common.main("cold_pipeline", measure, __doc__)
