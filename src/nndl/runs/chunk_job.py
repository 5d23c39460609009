"""A chunk job: the runs of one chunk, each passed once through the stages, in order.

    load (nndl.data) -> learn (nndl.learn) -> judge, write the files, write the record (nndl.runs)
    -> track (nndl.tracking)

The job first settles the runs that are complete already (nndl.runs.complete); each other run then
goes through the stages above, each once, and nothing below calls back up. The process pays its
imports (torch, MLflow) once and loads each data set once. The record is written last, and the
MLflow run is handed to the store right after it with Ctrl-C, SIGTERM and SIGHUP held back in
between (nndl.interrupt.signals_held), so a run that finished keeps its files and its final status
whatever stops the job later.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from nndl import heap
from nndl.errors import TrackingError
from nndl.files import write_json
from nndl.full_disk import check_writable, writing
from nndl.interrupt import Terminated, doing, ignoring_signals, restore, signals_held, terminate_on_signals
from nndl.learn.run import RunResult, train_and_evaluate
from nndl.learn.warmup import warm_up
from nndl.runs import outcome, record
from nndl.runs.chunks import group_of
from nndl.runs.complete import Settled, settle_complete_runs
from nndl.runs.job import ChunkJob
from nndl.runs.outputs import write_outputs
from nndl.tasks.runspec import RunSpec
from nndl.tracking.recording import Recording
from nndl.tracking.run import SIGNAL_WAIT_S

RUN_NOT_WRITTEN = ("Nothing was half-written: the run being written has no record and is trained again; the runs "
                   "complete before it are kept.")


def run_chunk(specs: list[RunSpec], manifest_path: str | Path, experiment: str, project: str,
              project_root: str | Path, source: str, log: TextIO = sys.stderr, console: TextIO = sys.stdout,
              record_timeout_s: float = 300) -> dict:
    """Train and evaluate every run of `specs` that is not complete; write the chunk's manifest.

    `source` names the workflow script (MLflow's `mlflow.source.name`). Before the first run the
    job loads the data and warms up each kind of learner it trains, on its own clock (the manifest's
    `seconds.warm_up`), so a run's train_seconds are its own work. A default run that diverges
    or misses its gates ends FAILED and stops the chunk with its error; the runs before it stay
    complete. A study run that does is a finding: it ends FINISHED with an `outcome` tag saying why,
    is complete, and the chunk goes on. The store records the runs in the background; at the end
    the job waits up to `record_timeout_s` for it, then fails naming the runs it has not recorded;
    a call the store refuses for good (no permission, a deleted experiment) stops the job at once.
    Ctrl-C, SIGTERM and SIGHUP stop it alike: the run in training is not recorded, and the store
    gets SIGNAL_WAIT_S more to take what is queued (complete runs it did not take are recorded by
    the rerun, which the workflow plans: nndl.runs.checks). Each step says what it is doing
    (nndl.interrupt.doing), so the line the stop ends with names the run in training, or what the
    job did instead.
    """
    started, group = time.perf_counter(), _group(specs)
    handlers = terminate_on_signals()
    try:
        with doing("identifying the data and opening the MLflow store"):
            job = ChunkJob.open(specs, experiment, project, project_root, source, log, console)
        rows, warm_up_seconds = _recorded_rows(job, record_timeout_s)
    finally:
        restore(handlers)
    manifest = {"group": group, "experiment_id": job.recorder.experiment_id, "study_parents": job.recorder.parents,
                "runs": [{"name": row["name"], "dir": spec.dir, "trained": row["trained"]}
                         for spec, row in zip(job.specs, rows)],
                "seconds": _seconds(rows, time.perf_counter() - started, warm_up_seconds)}
    with writing(Path(manifest_path).parent, "The chunk's runs are complete and kept: the rerun writes its manifest."):
        write_json(manifest, manifest_path)
    trained = sum(row["trained"] for row in rows)
    print(f"chunk done: {trained} trained, {len(rows) - trained} already complete, "
          f"{manifest['seconds']['in_job']:.1f} s", file=log)
    return manifest


def _recorded_rows(job: ChunkJob, record_timeout_s: float) -> tuple[list[dict], float]:
    """Each run trained or found complete, then recorded by the store (see run_chunk): its row; and
    the seconds of the job's warm-up."""
    try:
        with doing("finding the complete runs and their records in the MLflow store"):
            settled = settle_complete_runs(job)
        with doing("loading the data and warming up"):
            warm_up_seconds = _warm_up(job, [spec for spec in job.specs if spec.name not in settled.done])
        heap.loaded()  # the imports, the data, the first calls: kept to the end
        rows = _train_or_skip(job, settled)
        with doing("waiting for the MLflow store to record the runs"):
            _wait_for_the_record(job, record_timeout_s)
        return rows, warm_up_seconds
    except (KeyboardInterrupt, Terminated):
        _last_wait(job)
        raise
    except BaseException:
        job.recorder.delivery.wait(record_timeout_s)  # a failed run's status and outcome, if the store is there
        raise


def _warm_up(job: ChunkJob, to_train: list[RunSpec]) -> float:
    """Load the data and warm up each kind of learner (task and implementation) the job will train,
    once, before the first run's clock starts (nndl.learn.warmup): a run's train_seconds are its own
    work, whatever ran before it. Returns the seconds, the job's own."""
    started, kinds = time.perf_counter(), {}
    for spec in to_train:
        kinds.setdefault((spec.task, spec.impl), spec)
    if not kinds:
        return 0.0
    for spec in kinds.values():
        warm_up(spec, job.datasets.load(spec.data, spec.input_scale), job.device)
    seconds = time.perf_counter() - started
    print(f"warmed up {', '.join(f'{task}-{impl}' for task, impl in kinds)} in {seconds:.1f} s (the job's "
          "imports and first calls, before any run's clock starts)", file=job.log, flush=True)
    return seconds


def _train_or_skip(job: ChunkJob, settled: Settled) -> list[dict]:
    rows = []
    for position, spec in enumerate(job.specs, 1):
        job.recorder.check_store()
        label = f"[{position}/{len(job.specs)}] {spec.name}"
        if spec.name in settled.done:
            print(f"{label}: complete (spec {job.spec_hashes[spec.name]}), not trained again", file=job.log, flush=True)
            what = "recorded again from its files" if spec.name in settled.recorded_again else "skipped"
            print(f"{label}: complete, {what}", file=job.console, flush=True)
            rows.append({"name": spec.name, "trained": False})
        else:
            stale = settled.stale.get(job.keys[spec.name], [])
            with doing(f"training {spec.name}", training=spec.name):
                rows.append({"name": spec.name, "trained": True, **_train_run(job, spec, label, stale)})
    return rows


def _train_run(job: ChunkJob, spec: RunSpec, label: str, stale: list) -> dict:
    """Load, learn, judge, write the files, write the record, track: one run, each stage once, and
    nothing below calls back up. This project's earlier MLflow runs of it (a record whose files were
    lost) are superseded once it is recorded (nndl.tracking.ledger.Superseder). Returns its times."""
    started = time.perf_counter()
    check_writable(spec.dir, RUN_NOT_WRITTEN)  # said before training, not after
    print(f"{label}: training on {job.device} ({job.device_name}), spec {job.spec_hashes[spec.name]}",
          file=job.log, flush=True)
    data = job.datasets.load(spec.data, spec.input_scale)
    result = train_and_evaluate(spec, data, job.device, progress=job.log)
    found = outcome.outcome(spec, result.history)
    failure = outcome.error_for(spec, found) if spec.study is None else None  # a default run must succeed
    judged = (found, outcome.status(spec, found), outcome.tag(found))
    _say_outcome(job.log, result.metrics["summary"], found)
    if failure:
        job.recorder.record(_recording(job, spec, result, judged, stale), job.identities[spec.name])
        raise failure
    _keep(job, spec, result, judged, data.train.X[:4], stale)
    seconds = time.perf_counter() - started
    summary = found.message if found else ", ".join(
        f"{key.removeprefix('final/')} {value:.4g}" for key, value in list(result.metrics["summary"].items())[:2])
    print(f"{label}: finished in {seconds:.1f} s; its files are complete, its MLflow record queued",
          file=job.log, flush=True)
    print(f"{label}: done in {seconds:.1f} s ({summary})", file=job.console, flush=True)
    return {"train_seconds": result.train_seconds, "evaluate_seconds": result.evaluate_seconds, "seconds": seconds}


def _keep(job: ChunkJob, spec: RunSpec, result: RunResult, judged: tuple, example, stale: list) -> None:
    """Write the run's files, then its record, then hand its MLflow record to the store, with the
    stopping signals held over the last two (a record is never without its MLflow run's end)."""
    found, status, _ = judged
    with writing(spec.dir, RUN_NOT_WRITTEN):
        files = write_outputs(spec.dir, result.state, result.history, result.metrics, result.predictions)
        final = record.new(spec, job.keys[spec.name], job.code[spec.task], job.digests[spec.name], found, status)
        model = (result.network, example.cpu().numpy()) if job.logs_model(spec, found) else (None, None)
        # A stop held over the record comes when it is written: the run is complete then, not dropped.
        with doing(f"handing the record of {spec.name} (complete) to the MLflow store"), signals_held():
            record.write(final, spec.dir)
            recording = _recording(job, spec, result, judged, stale, files, model)
            job.recorder.record(recording, job.identities[spec.name])


def _recording(job: ChunkJob, spec: RunSpec, result: RunResult, judged: tuple, stale: list, files=(),
               model=(None, None)) -> Recording:
    _, status, tag = judged
    return Recording(spec, job.keys[spec.name], job.code[spec.task], result.history, result.metrics, tag, status,
                     list(files), *model, superseded=stale)


def _say_outcome(log: TextIO, summary: dict, found: outcome.Outcome | None) -> None:
    for key, value in summary.items():
        print(f"  {key}: {value:.6g}", file=log)
    if found:
        print(f"  outcome: {found.message}", file=log)


def _wait_for_the_record(job: ChunkJob, timeout_s: float) -> None:
    """Wait until the store took every queued call; TrackingError naming what it did not take."""
    delivery, waiting = job.recorder.delivery, time.perf_counter()
    finished = delivery.wait(timeout_s)
    job.recorder.check_store()
    if not finished:
        raise TrackingError(
            f"the MLflow store at {job.recorder.uri} did not record these runs within {timeout_s:g} s "
            f"(mlflow.record_timeout_s; {delivery.last_word()}): {', '.join(delivery.behind())}. "
            "Their files are complete on disk. Once the store answers, run snakemake again: it records them from "
            "their files, without training.")
    if time.perf_counter() - waiting > 1:
        print(f"waited {time.perf_counter() - waiting:.1f} s for the store to record the runs", file=job.log)


def _last_wait(job: ChunkJob) -> None:
    """After Ctrl-C, SIGTERM or SIGHUP: give the store SIGNAL_WAIT_S to take what is queued (the
    complete runs' records), ignoring a second signal meanwhile (Snakemake sends SIGTERM after the
    terminal's SIGINT)."""
    handlers = ignoring_signals()
    try:
        if not job.recorder.delivery.wait(SIGNAL_WAIT_S):
            print(f"stopped before the store recorded {', '.join(job.recorder.delivery.behind())}: the next run "
                  "records them from their files", file=job.log, flush=True)
    finally:
        restore(handlers)


def _group(specs: list[RunSpec]) -> str:
    groups = {group_of(spec) for spec in specs}
    if len(groups) != 1:
        raise ValueError(f"a chunk holds the runs of one group, not of {sorted(groups)}")
    return groups.pop()


def _seconds(rows: list[dict], in_job: float, warm_up_seconds: float) -> dict:
    trained = [row for row in rows if row["trained"]]
    return {"in_job": in_job, "warm_up": warm_up_seconds, "training": sum(row["train_seconds"] for row in trained),
            "evaluation": sum(row["evaluate_seconds"] for row in trained)}
