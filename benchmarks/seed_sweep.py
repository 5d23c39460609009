"""Seeds sweep: the marginal wall time of a seed against that seed's own arithmetic.

    python -m benchmarks.seed_sweep [--quick] [--seeds 1 4 16] [--scaling-config small.yaml]

A cold run of the config with 1, 4 and 16 seeds (data acquired untimed). The marginal cost of a
seed (wall difference / seed difference) against its runs' training and evaluation and its
figures, timed inside the jobs (target <= 1.5x); a chunk's overhead per run at the largest sweep
(target <= 0.5 s).
"""

from __future__ import annotations

from benchmarks import common
from benchmarks.cold_pipeline import time_pipeline

TARGETS = {"seed_cost_over_arithmetic": 1.5, "chunk_overhead_per_run_s": 0.5}


def measure(options) -> dict:
    sweep = options.seeds or ([1, 4] if options.quick else [1, 4, 16])
    runs = []
    for count in sweep:
        runs.append(time_pipeline(options.scaling_config, list(range(count))))
        row = runs[-1]
        common.say(f"  {count:>3} seed(s) on config/{options.scaling_config}: {row['cold_s']:.1f} s, "
                   f"{row['runs_trained']} runs; arithmetic per seed {row['arithmetic_per_seed_s']:.2f} s; "
                   f"chunk overhead per run {row['chunk_overhead_per_run_s']:.2f} s")
    first, last = runs[0], runs[-1]
    marginal = (last["cold_s"] - first["cold_s"]) / (len(last["seeds"]) - len(first["seeds"]))
    ratio = marginal / last["arithmetic_per_seed_s"]
    overhead = last["chunk_overhead_per_run_s"]
    common.say(f"seed sweep: marginal seed {marginal:.2f} s / its arithmetic {last['arithmetic_per_seed_s']:.2f} s "
               f"= {ratio:.2f} x")
    return {"runs": runs, "marginal_seed_s": marginal, "arithmetic_per_seed_s": last["arithmetic_per_seed_s"],
            "verdicts": [
                common.verdict("seeds sweep: marginal cost of a seed <= 1.5x its own arithmetic", ratio,
                               TARGETS["seed_cost_over_arithmetic"], ratio <= TARGETS["seed_cost_over_arithmetic"],
                               marginal_seed_s=marginal),
                common.verdict(f"a chunk's overhead per run at {len(last['seeds'])} seeds (s)", overhead,
                               TARGETS["chunk_overhead_per_run_s"], overhead <= TARGETS["chunk_overhead_per_run_s"])]}


if __name__ == "__main__":
    common.main("seed_sweep", measure, __doc__)
