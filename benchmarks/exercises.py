"""config/exercises.yaml (the default config plus its studies), cold, against its own floor.

    python -m benchmarks.exercises

Target: wall <= 1.3 x (its runs' arithmetic / cores) + the other jobs' own time; also stored, a
stricter reading that spreads the other jobs over the cores too, and the chunks' overhead per run.
"""

from __future__ import annotations

import multiprocessing
import tempfile

from benchmarks import common
from benchmarks.project import in_job_seconds, job_seconds, prepared_project, snakemake

TARGETS = {"exercises_over_floor": 1.3, "chunk_overhead_per_run_s": 0.5}


def measure(options) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        folder = prepared_project(scratch, "config.yaml")
        cold = snakemake(folder, "--configfile", "config/exercises.yaml")
        inside, jobs = in_job_seconds(folder), job_seconds(folder)
    cores = multiprocessing.cpu_count()
    chunk_jobs = jobs.get("train_chunk", {}).get("total_s", 0.0)
    other = sum(row["total_s"] for rule, row in jobs.items() if rule != "train_chunk")
    scaled = TARGETS["exercises_over_floor"] * inside["arithmetic_s"] / cores
    bound, strict = scaled + other, scaled + other / cores
    common.say(f"  {inside['runs_trained']} runs in {inside['chunks']} chunk jobs: wall {cold:.1f} s; arithmetic "
               f"{inside['arithmetic_s']:.1f} s / {cores} cores; other jobs {other:.1f} s; chunk jobs {chunk_jobs:.1f} s")
    overhead = inside["chunk_overhead_per_run_s"]
    return {"cold_s": cold, "cores": cores, **inside, "chunk_jobs_s": chunk_jobs, "other_jobs_s": other,
            "ratio_to_all_work_over_cores": cold / ((inside["arithmetic_s"] + other) / cores), "job_seconds": jobs,
            "verdicts": [
                common.verdict("exercises, cold: wall <= 1.3 x (arithmetic / cores) + the other jobs (s)", cold,
                               bound, cold <= bound),
                common.verdict("stricter: wall <= 1.3 x (arithmetic / cores) + the other jobs / cores (s)", cold,
                               strict, cold <= strict),
                common.verdict("a chunk's overhead per run in the exercises (s)", overhead,
                               TARGETS["chunk_overhead_per_run_s"], overhead <= TARGETS["chunk_overhead_per_run_s"])]}


if __name__ == "__main__":
    common.main("exercises", measure, __doc__)
