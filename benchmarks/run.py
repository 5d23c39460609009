"""Run a chosen set of nndl's benchmarks, store their figures and verdicts in one JSON, print a summary.

    python -m benchmarks.run                          # all but gpu_check (about 40 minutes on 2 cores)
    python -m benchmarks.run --quick                  # fewer epochs, seeds and repeats
    python -m benchmarks.run --only noop_rerun job_imports
    python -m benchmarks.run --only epoch_speed --device cuda   # on a GPU machine

Each benchmark is also a module of its own (python -m benchmarks.<name>); its docstring says what it
measures against what floor. This machine is shared and noisy, so every target is a ratio to a floor
measured in the same run. Writes results/benchmarks/benchmark-<time>.json and latest.json.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from benchmarks import (
    cold_pipeline,
    common,
    epoch_speed,
    exercises,
    job_imports,
    noop_rerun,
    numerics_cost,
    store_check,
    seed_sweep,
    study_scale,
)

BENCHMARKS = {"epoch_speed": epoch_speed, "cold_pipeline": cold_pipeline, "noop_rerun": noop_rerun, "store_check": store_check,
              "job_imports": job_imports, "seed_sweep": seed_sweep, "exercises": exercises, "study_scale": study_scale,
              "numerics_cost": numerics_cost}


def summary(results: dict) -> None:
    common.say("\n" + "=" * 78)
    common.say(f"nndl benchmarks, {results['timestamp']}: {results['machine']['cpu']} "
               f"({results['machine']['cpus']} CPUs), torch {results['machine']['torch']}")
    for name in BENCHMARKS:
        for row in results.get(name, {}).get("verdicts", []):
            common.say(f"  {name:<14}{row['target']}: {row['measured']:.3g} against {row['bound']:.3g}: "
                       f"{'met' if row['met'] else 'MISSED'}")
    common.say("=" * 78)


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks")
    options = parser.parse_args()
    results = common.header(options, " ".join(sys.argv))
    for name in options.only or BENCHMARKS:
        common.say(f"{name}:")
        results[name] = BENCHMARKS[name].measure(options)
    options.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for file_name in (f"benchmark-{stamp}.json", "latest.json"):
        (options.out / file_name).write_text(json.dumps(results, indent=2) + "\n")
    summary(results)
    common.say(f"Written: {options.out / f'benchmark-{stamp}.json'}")


if __name__ == "__main__":
    main()
