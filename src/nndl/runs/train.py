"""A chunk job: the runs of one chunk, each passed once through the stages, in order.

    record (complete already?) -> learn (train) -> evaluate -> write (files, record last) -> track

The process pays its imports (torch, MLflow, torch._dynamo through the first optimizer) once and
loads each data set once. A run is complete when its record matches today's spec, training code
and data (nndl.runs.record); a complete run is checked against today's gates from its saved
history, never retrained for them. The record is written last, and the MLflow run ends in its final
status right after it with Ctrl-C, SIGTERM and SIGHUP held back in between (`Run.finish`), so a run that
finished keeps its files and its final status whatever stops the job later.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from nndl.errors import TrackingError
from nndl.files import write_json, writing
from nndl.interrupt import Terminated, ignoring_signals, restore, terminate_on_signals
from nndl.runs import outcome, record
from nndl.runs.chunks import group_of
from nndl.runs.code import training_code
from nndl.runs.outputs import read_history
from nndl.runs.specs import spec_hash
from nndl.runs.session import ChunkSession
from nndl.tracking import ledger, repairs
from nndl.tracking.delivery import refusals_said
from nndl.tracking.run import SIGNAL_WAIT_S
from nndl.tracking.uri import tracking_uri
from nndl.tracking.tags import OUTCOME_TAG, PARENT_TAG


def run_chunk(specs: list[dict], manifest_path: str | Path, experiment: str, project: str,
              project_root: str | Path, source: str, log: TextIO = sys.stderr, console: TextIO = sys.stdout,
              record_timeout_s: float = 300) -> dict:
    """Train and evaluate every run of `specs` that is not complete; write the chunk's manifest.

    `source` names the workflow script (MLflow's `mlflow.source.name`). A default run that diverges
    or misses its gates ends FAILED and stops the chunk with its error; the runs before it stay
    complete. A study run that does is a finding: it ends FAILED with an `outcome` tag saying why,
    is complete, and the chunk goes on. The store records the runs in the background; at the end
    the job waits up to `record_timeout_s` for it, then fails naming the runs it has not recorded;
    a call the store refuses for good (no permission, a deleted experiment) stops the job at once.
    Ctrl-C, SIGTERM and SIGHUP stop it alike: the run in training ends KILLED, and the store gets
    SIGNAL_WAIT_S more to take what is queued (complete runs it did not take are recorded by the
    rerun, which the workflow plans: nndl.runs.checks).
    """
    started, group = time.perf_counter(), _group(specs)
    handlers = terminate_on_signals()
    try:
        with refusals_said(tracking_uri(), experiment, None, "opening the experiment"):
            session = ChunkSession.open(specs, experiment, project, training_code(), project_root, source, log,
                                        console)
        rows = _recorded_rows(session, specs, record_timeout_s)
    finally:
        restore(handlers)
    manifest = {"group": group, "experiment_id": session.experiment_id, "study_parents": session.parents,
                "runs": [{key: row[key] for key in ("name", "trained")} for row in rows],
                "seconds": _seconds(rows, time.perf_counter() - started)}
    with writing(Path(manifest_path).parent, "The chunk's runs are complete and kept: the rerun writes its manifest."):
        write_json(manifest, manifest_path)
    trained = sum(row["trained"] for row in rows)
    print(f"chunk done: {trained} trained, {len(rows) - trained} already complete, "
          f"{manifest['seconds']['in_job']:.1f} s", file=log)
    return manifest


def _recorded_rows(session: ChunkSession, specs: list[dict], record_timeout_s: float) -> list[dict]:
    """Each run trained or found complete, then recorded by the store (see run_chunk): its row."""
    try:
        rows = _train_or_skip(session, specs, session.log, session.console)
        _wait_for_the_record(session, record_timeout_s)
        return rows
    except (KeyboardInterrupt, Terminated):
        _last_wait(session)
        raise
    except BaseException:
        session.delivery.wait(record_timeout_s)  # a failed run's status and outcome, if the store is there
        raise


def _train_or_skip(session: ChunkSession, specs: list[dict], log: TextIO, console: TextIO) -> list[dict]:
    with refusals_said(session.uri, session.experiment, session.experiment_id, "marking the complete runs"):
        done, recorded_again = _complete_runs(session, specs)
    rows = []
    for position, spec in enumerate(specs, 1):
        session.check_store()
        label = f"[{position}/{len(specs)}] {spec['name']}"
        if spec["name"] in done:
            print(f"{label}: complete (spec {done[spec['name']].spec_hash}), not trained again", file=log, flush=True)
            what = "recorded again from its files" if spec["name"] in recorded_again else "skipped"
            print(f"{label}: complete, {what}", file=console, flush=True)
            rows.append({"name": spec["name"], "trained": False})
        else:
            rows.append({"name": spec["name"], "trained": True, **session.train(spec, label)})
    return rows


def _wait_for_the_record(session: ChunkSession, timeout_s: float) -> None:
    """Wait until the store took every queued call; TrackingError naming what it did not take."""
    waiting = time.perf_counter()
    finished = session.delivery.wait(timeout_s)
    session.check_store()
    if not finished:
        raise TrackingError(
            f"the MLflow store at {session.uri} did not record these runs within {timeout_s:g} s "
            f"(mlflow.record_timeout_s; last error: {session.delivery.last_error}): "
            f"{', '.join(session.delivery.behind())}. Their files are complete on disk. Once the store "
            "answers, run snakemake again: it records them from their files, without training.")
    if time.perf_counter() - waiting > 1:
        print(f"waited {time.perf_counter() - waiting:.1f} s for the store to record the runs", file=session.log)


def _last_wait(session: ChunkSession) -> None:
    """After Ctrl-C, SIGTERM or SIGHUP: give the store SIGNAL_WAIT_S to take what is queued (the
    ends of complete runs, the KILLED of the one in training), ignoring a second signal meanwhile
    (Snakemake sends SIGTERM after the terminal's SIGINT)."""
    handlers = ignoring_signals()
    try:
        if not session.delivery.wait(SIGNAL_WAIT_S):
            print(f"stopped before the store recorded {', '.join(session.delivery.behind())}: the next run "
                  "records them from their files", file=session.log, flush=True)
    finally:
        restore(handlers)


def _complete_runs(session: ChunkSession, specs: list[dict]) -> tuple[dict[str, record.Record], set[str]]:
    """({name: record} of the runs whose files are complete, the names of those recorded again). Each has one MLflow run in this store
    and experiment afterwards, with the status and tags today's gates give it: its record if there
    is one (this project's other runs of the key superseded), else one recorded again from the files. A default run
    that misses today's gates is marked FAILED, then stops the job."""
    found = {spec["name"]: (spec, record.complete(spec, session.code, session.data_digest(spec))) for spec in specs}
    found = {name: pair for name, pair in found.items() if pair[1] is not None}
    expected, failures = {}, []
    for spec, done in found.values():
        today = outcome.outcome(spec, read_history(spec["dir"]))
        tags = {OUTCOME_TAG: outcome.tag(today)}
        if "study" in spec:
            tags[PARENT_TAG] = session.parents[spec["study"]["name"]]
        elif today:
            failures.append((spec, today))
        expected[done.key] = {"status": outcome.status(today), "tags": tags}
        if (today, outcome.status(today)) != (done.outcome, done.status):  # the gates changed
            done = replace(done, outcome=today, status=outcome.status(today), spec=spec, spec_hash=spec_hash(spec))
            record.write(done, spec["dir"])
            found[spec["name"]] = (spec, done)
    keys = {spec["name"]: record.run_key(spec, session.code, session.data_digest(spec)) for spec in specs}
    runs = ledger.runs_by_key(session.uri, session.experiment, session.project, list(keys.values()))
    superseder = ledger.Superseder(session.uri)
    kept, changed = repairs.reconcile_runs(session.uri, runs, expected, superseder)
    # This project's MLflow runs of the runs about to train (attempts): superseded once each is recorded.
    session.superseded = {key: runs.get(key, []) for name, key in keys.items() if name not in found}
    for run_id in changed:
        print(f"run {run_id}: its files are complete; set its final status and tags", file=session.log)
    if line := superseder.summary():
        print(line, file=session.log)
    recorded_again = set()
    for spec, done in found.values():
        if done.key not in kept:
            session.record_again(spec, done)
            recorded_again.add(spec["name"])
            print(f"{spec['name']}: complete on disk, not in {session.experiment!r}: recorded again from its "
                  "files, not trained", file=session.log, flush=True)
    for spec, today in failures:
        outcome.raise_for(spec, today)
    return {name: done for name, (spec, done) in found.items()}, recorded_again


def _group(specs: list[dict]) -> str:
    groups = {group_of(spec) for spec in specs}
    if len(groups) != 1:
        raise ValueError(f"a chunk holds the runs of one group, not of {sorted(groups)}")
    return groups.pop()


def _seconds(rows: list[dict], in_job: float) -> dict:
    trained = [row for row in rows if row["trained"]]
    return {"in_job": in_job, "training": sum(row["train_seconds"] for row in trained),
            "evaluation": sum(row["evaluate_seconds"] for row in trained)}
