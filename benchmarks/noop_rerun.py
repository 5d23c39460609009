"""A no-op rerun of a finished pipeline against Snakemake's own no-op on a one-rule workflow.

    python -m benchmarks.noop_rerun [--repeats 5] [--noop-config config.yaml]

Runs config/small.yaml (or --noop-config) once in a throwaway copy of the project (untimed), then times a no-op rerun
of it and a no-op of a one-rule workflow, interleaved, `--repeats` times each (default 5): the
median of each, and their ratio (target <= 1.25).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from benchmarks import common
from benchmarks.project import prepared_project, snakemake

TARGET = 1.25


def one_rule_workflow(folder: Path) -> Path:
    """What Snakemake itself costs before any of ours: one rule, its output already made."""
    folder.mkdir(parents=True)
    (folder / "Snakefile").write_text('rule all:\n    output: "done"\n    shell: "touch {output}"\n')
    snakemake(folder)
    return folder


def measure(options) -> dict:
    repeats, config = options.repeats or 5, options.noop_config
    with tempfile.TemporaryDirectory() as scratch:
        project = prepared_project(Path(scratch), config)
        cold = snakemake(project)
        common.say(f"  config/{config} run once (untimed for the target): {cold:.1f} s")
        floor = one_rule_workflow(Path(scratch) / "one-rule")
        noop, snake = [], []
        for repeat in range(repeats):  # interleaved: both see the same load on a shared machine
            noop.append(snakemake(project))
            snake.append(snakemake(floor))
            common.say(f"  [{repeat + 1}/{repeats}] no-op rerun {noop[-1]:.2f} s, one-rule no-op {snake[-1]:.2f} s")
    ratio = statistics.median(noop) / statistics.median(snake)
    common.say(f"no-op rerun: median {statistics.median(noop):.2f} s vs Snakemake one-rule no-op median "
               f"{statistics.median(snake):.2f} s = {ratio:.2f} x (target <= {TARGET})")
    return {"config": config, "first_run_s": cold, "noop_s": noop, "snakemake_noop_s": snake,
            "verdicts": [common.verdict(f"no-op rerun <= {TARGET}x Snakemake's no-op on a one-rule workflow "
                                        f"(median of {repeats} each, interleaved)", ratio, TARGET, ratio <= TARGET,
                                        noop_median_s=statistics.median(noop),
                                        snakemake_median_s=statistics.median(snake))]}


if __name__ == "__main__":
    common.main("noop_rerun", measure, __doc__)
