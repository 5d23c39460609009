"""Every run of a config, resolved once where the workflow is parsed: the default runs, then each
study's."""

from __future__ import annotations

from nndl.learn.tasks import IMPLS, TASKS
from nndl.runs.grid import resolve_study
from nndl.runs.specs import resolve_run


def resolve_runs(config: dict) -> list[dict]:
    """Every run of a validated config, in training order: the default runs (task, then seed, then
    implementation), then each study's runs (grid point, then seed, then implementation)."""
    runs = [resolve_run(config, task, impl, seed) for task in TASKS for seed in config["seeds"] for impl in IMPLS]
    for study in config["studies"]:
        runs.extend(resolve_study(config, study))
    return runs
