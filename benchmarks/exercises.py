"""config/exercises.yaml (the default config plus its studies), cold, against its own floor.

    python -m benchmarks.exercises
    python -m benchmarks.exercises --against <git revision>   # also: that revision, cold, first
    python -m benchmarks.exercises --keep /tmp/exercises      # and leave the copies there

Target: wall <= 1.3 x (its runs' arithmetic / cores) + the other jobs' own time; also stored, a
stricter reading that spreads the other jobs over the cores too, and the chunks' overhead per run.
With --against, the revision's own exercises (its code and its exercises.yaml) run cold first in
the same benchmark run, and the target is this tree's cold wall <= 1.2 x the revision's.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import tempfile
from pathlib import Path

from benchmarks import common
from benchmarks.project import in_job_seconds, job_seconds, prepared_project, snakemake

TARGETS = {"exercises_over_floor": 1.3, "chunk_overhead_per_run_s": 0.5, "over_revision": 1.2}


def cold_exercises(revision: str | None = None, keep: Path | None = None) -> tuple[float, dict, dict]:
    """(cold wall, what the jobs measured inside, per-rule job seconds) of the exercises in a fresh
    copy (left in `keep`/<revision or 'tree'> when given, to read its reports)."""
    kept = None if keep is None else keep / (revision or "tree")
    if kept is not None and kept.exists() and any(kept.iterdir()):
        raise SystemExit(f"{kept} is not empty: a run there would not be cold. Remove it, or --keep another folder.")
    with contextlib.nullcontext(kept) if kept is not None else tempfile.TemporaryDirectory() as scratch:
        folder = prepared_project(scratch, "config.yaml", revision=revision)
        cold = snakemake(folder, "--configfile", "config/exercises.yaml")
        return cold, in_job_seconds(folder), job_seconds(folder)


def measure(options) -> dict:
    before = cold_exercises(options.against, options.keep) if options.against else None  # the revision first
    cold, inside, jobs = cold_exercises(None, options.keep)
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
                               TARGETS["chunk_overhead_per_run_s"], overhead <= TARGETS["chunk_overhead_per_run_s"]),
                *([_against(options.against, before, cold, inside["runs_trained"])] if before else [])]}


def _against(revision: str, before: tuple[float, dict, dict], cold: float, runs: int) -> dict:
    """This tree's cold wall against the revision's, timed first in the same benchmark run."""
    ratio, bound = cold / before[0], TARGETS["over_revision"]
    common.say(f"  {revision}: {before[1]['runs_trained']} runs, wall {before[0]:.1f} s; this tree: {runs} runs, "
               f"wall {cold:.1f} s: {ratio:.2f}x")
    return common.verdict(f"exercises, cold: wall <= {bound} x {revision}'s (ratio)", ratio, bound, ratio <= bound,
                          revision=revision, revision_cold_s=before[0], revision_runs=before[1]["runs_trained"])


if __name__ == "__main__":
    common.main("exercises", measure, __doc__)
