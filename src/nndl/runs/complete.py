"""The runs of a chunk that are complete already, settled before any training: each ends with one
MLflow run in this store and experiment, with the status and tags today's gates give it.

A complete run keeps its record in the store if it has one there (this project's other runs of its
key superseded), and is recorded again from its files if not. A default run that misses today's
gates is marked FAILED, then stops the job; a study run ends FINISHED whatever its outcome (its
`outcome` tag says it: nndl.runs.outcome.status).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from nndl.learn.learners import load_concise_net
from nndl.runs import names, outcome, record
from nndl.runs.job import ChunkJob
from nndl.runs.outputs import read_history, read_metrics
from nndl.tasks.runspec import RunSpec, spec_hash
from nndl.tracking import ledger, repairs
from nndl.tracking.delivery import refusals_said
from nndl.tracking.recording import Recording
from nndl.tracking.tags import OUTCOME_TAG, PARENT_TAG


@dataclass(frozen=True)
class Settled:
    done: dict[str, record.Record]  # {run name: its record}: complete, not trained again
    recorded_again: set[str]  # the names of those recorded again from their files
    stale: dict[str, list]  # {run key: this project's MLflow runs of a run about to train}: superseded once it is


def settle_complete_runs(job: ChunkJob) -> Settled:
    """Find the chunk's complete runs and settle their MLflow records (see the module's docstring)."""
    recorder = job.recorder
    with refusals_said(recorder.uri, recorder.experiment, recorder.experiment_id, "marking the complete runs"):
        done = {spec.name: (spec, found) for spec in job.specs
                if (found := record.complete(spec, job.code[spec.task], job.identities[spec.name]["digest"])) is not None}
        expected, failures = _expected(job, done)
        runs = ledger.noted_runs(recorder.uri, recorder.ledger, recorder.experiment_id, list(job.keys.values()))
        superseder = ledger.Superseder(recorder.uri)
        kept, changed = repairs.reconcile_runs(recorder.uri, runs, expected, superseder)
    for run_id in changed:
        print(f"run {run_id}: its files are complete; set its final status and tags", file=job.log)
    if line := superseder.summary():
        print(line, file=job.log)
    recorded_again = set()
    for spec, found in done.values():
        if found.key not in kept:
            _record_again(job, spec, found)
            recorded_again.add(spec.name)
            print(f"{spec.name}: complete on disk, not in {recorder.experiment!r}: recorded again from its "
                  "files, not trained", file=job.log, flush=True)
    if failures:
        raise failures[0]
    stale = {job.keys[spec.name]: runs.get(job.keys[spec.name], []) for spec in job.specs if spec.name not in done}
    return Settled({name: found for name, (spec, found) in done.items()}, recorded_again, stale)


def _expected(job: ChunkJob, done: dict[str, tuple[RunSpec, record.Record]]) -> tuple[dict[str, dict], list]:
    """({run key: the status and tags today's gates give it}, the errors of default runs that miss
    them). A record whose outcome changed with the gates is written again (`done` updated)."""
    expected, failures = {}, []
    for name, (spec, found) in done.items():
        today = outcome.outcome(spec, read_history(spec.dir))
        tags = {OUTCOME_TAG: outcome.tag(today)}
        if spec.study:
            tags[PARENT_TAG] = job.recorder.parents[spec.study.name]
        elif error := outcome.error_for(spec, today):
            failures.append(error)
        status = outcome.status(spec, today)
        expected[found.key] = {"status": status, "tags": tags}
        # The gates changed, or an earlier version ended this study run FAILED for its outcome.
        if (today, status) != (found.outcome, found.status):
            found = replace(found, outcome=today, status=status, spec=spec, spec_hash=spec_hash(spec))
            record.write(found, spec.dir)
            done[name] = (spec, found)
    return expected, failures


def _record_again(job: ChunkJob, spec: RunSpec, found: record.Record) -> None:
    """Record a complete run from its files into this store and experiment (its MLflow run was
    lost, or the files were made for another store), with no training."""
    recording = Recording(spec, found.key, found.code_hash, read_history(spec.dir), read_metrics(spec.dir),
                          outcome.tag(found.outcome), found.status,
                          files=[f"{spec.dir}/{name}" for name in record.OUTPUT_FILES])
    if job.logs_model(spec, found.outcome):
        state = torch.load(f"{spec.dir}/{names.MODEL}", weights_only=True)
        recording.model = load_concise_net(spec, state)
        recording.example = job.datasets.load(spec.data, spec.input_scale).train.X[:4].cpu().numpy()
    job.recorder.record(recording, job.identities[spec.name])
