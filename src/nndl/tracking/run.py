"""One MLflow run, opened in one place (`tracked_run`) and always closed in a final state.

A chunk job opens one after a run's files and record are written (nndl.tracking.recording) and
ends it FINISHED (FAILED for a default run that diverged or missed its gates: nndl.runs.outcome.status)
through `Run.finish`; FAILED if queueing it raised.
Every call to the store goes through the chunk's Delivery (nndl.tracking.delivery): the run is
created, logged and ended in the background, and training never waits on the store. Metrics and
tags are sent in batches. A run a SIGKILLed job left RUNNING is marked KILLED by the next job
(nndl.tracking.repairs).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from nndl.interrupt import Terminated
from nndl.provenance import process_identity
from nndl.tracking.delivery import Delivery
from nndl.tracking.logged_model import ModelRecord, log_torch_model
from nndl.tracking.tags import HOST_TAG, PID_TAG, RECORDED_TAG, WHOLE

SIGNAL_WAIT_S = 10.0  # how long a stopped job gives the store to take the records already queued


def flatten_params(settings: dict, prefix: str = "") -> dict[str, Any]:
    """{'data': {'seed': 0}} -> {'data.seed': 0}: MLflow params are flat."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten_params(value, name) if isinstance(value, dict) else {name: value})
    return flat


class Run:
    """Handle of an open run: everything a job logs goes through here, to the Delivery.

    Metrics and tags are queued and sent together in batches, at most every FLUSH_SECONDS and when
    the run ends: one call to the store costs about 10 ms on sqlite and 0.2 s on a server, as much
    as a short run's whole training. `run_id` is None until the store has created the run. `name`
    owns its calls in the Delivery (and names it in messages); `title` is its MLflow name (a study
    run's: nndl.runs.names.study_run_title), `name` if None.
    """

    FLUSH_SECONDS = 5.0
    BATCH_LIMIT = 1000  # metrics per log_batch call, MLflow's own limit
    PARAM_LIMIT = 100  # params per log_batch call

    def __init__(self, uri: str, delivery: Delivery, name: str, title: str | None = None):
        self.client, self.delivery, self.name = MlflowClient(tracking_uri=uri), delivery, name
        self.title = title or name
        self.run_id: str | None = None
        self.artifact_uri: str | None = None  # where its files go, known once the store made it
        self.ended = False
        self.pending: list[Metric] = []
        self.pending_params: list[Param] = []
        self.pending_tags: dict[str, str] = {}
        self.flushed_at = time.monotonic()

    def _send(self, what: str, call: Callable[[], None]) -> None:
        self.delivery.send(self.name, what, call)

    def start(self, experiment_id: str, tags: dict, params: dict, start_ms: int | None = None,
              on_created: Callable[[str], None] | None = None) -> None:
        """Queue the run's creation (started at `start_ms`, ms since the epoch; None: now), then
        `on_created(run id)`. The params wait for the first batch of metrics (`flush`)."""
        from mlflow.tracking.context.registry import resolve_tags

        def create():
            if self.run_id is None:  # a retry after the store made the run but did not answer makes another
                created = self.client.create_run(experiment_id, start_time=start_ms, run_name=self.title,
                                                 tags=resolve_tags(tags)).info
                self.run_id, self.artifact_uri = created.run_id, created.artifact_uri
                if on_created:
                    on_created(self.run_id)

        self._send("create the run", create)
        self.pending_params = [Param(key, str(value)) for key, value in flatten_params(params).items()]

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Queue finite metrics. NaN and infinity are left out: MLflow would store infinity as
        1.8e308, which flattens every chart it is in; the run's files and `outcome` tag say what
        happened."""
        stamp = int(time.time() * 1000)
        self.pending.extend(Metric(key, float(value), stamp, step or 0) for key, value in metrics.items()
                            if math.isfinite(value))
        if time.monotonic() - self.flushed_at >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Hand the params, metrics and tags set since the last flush to the Delivery, as few
        log_batch calls as MLflow takes (the tags with the last)."""
        tags = [RunTag(key, value) for key, value in self.pending_tags.items()]
        for params, metrics, with_tags in batches(self.pending_params, self.pending, tags, self.BATCH_LIMIT,
                                                  self.PARAM_LIMIT):
            self._send("log params, metrics and tags",
                       lambda params=params, metrics=metrics, with_tags=with_tags: self.client.log_batch(
                           self.run_id, metrics=metrics, params=params, tags=with_tags))
        self.pending_params, self.pending, self.pending_tags = [], [], {}
        self.flushed_at = time.monotonic()

    def set_tags(self, tags: dict[str, str]) -> None:
        """Queue tags: they go at the next flush, with its last batch of metrics."""
        self.pending_tags.update({key: str(value) for key, value in tags.items()})

    def log_datasets(self, datasets: dict[str, dict[str, str]]) -> None:
        """Record the data the run trained and was tested on (the runs table's Dataset column), in
        one call: {context ('training', 'testing'): {'name', 'digest', 'source'}}, without handing
        MLflow the arrays."""
        import warnings

        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset
        from mlflow.entities import DatasetInput, InputTag
        from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

        inputs = []
        for context, identity in datasets.items():
            with warnings.catch_warnings():  # "can be interpreted in multiple ways": a local path it is
                warnings.simplefilter("ignore", UserWarning)
                source = resolve_dataset_source(identity["source"])
            entity = MetaDataset(source, name=identity["name"], digest=identity["digest"])._to_mlflow_entity()
            inputs.append(DatasetInput(entity, tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)]))
        self._send(f"log {len(inputs)} datasets", lambda: self.client.log_inputs(self.run_id, inputs))

    def log_artifacts(self, paths: list[str | Path], folder: str | None = None) -> None:
        """Queue files that are final, in one call: they are read when the Delivery sends them. They
        go to the artifact store (a copy each), not the tracking store."""
        if not paths:
            return

        def log():
            # The run's artifact store from the URI its creation returned: MlflowClient.log_artifact
            # would ask the store for the run again (a get_run, about 5 ms a run on sqlite).
            from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

            repository = get_artifact_repository(self.artifact_uri, tracking_uri=self.client.tracking_uri)
            for path in paths:
                repository.log_artifact(str(path), folder)

        self._send(f"log {len(paths)} files", log)

    def log_torch_model(self, model, input_example, record: ModelRecord) -> None:
        """Log an nn.Module (on the CPU) as a LoggedModel with an input example and a signature, and
        its final metrics, which go to the run too (nndl.tracking.logged_model). The Recorder
        queues it before the run's first flush: MLflow links a run's step-0 metrics to a new model
        by reading each metric's history (a call each), and finds none to read."""
        self._send("log the model", lambda: log_torch_model(self.client, self.run_id, model, input_example, record))

    def finish(self, status: str = "FINISHED", end_ms: int | None = None) -> None:
        """Queue the metrics, the mark that the record is whole and the run's end in `status`
        (FINISHED; FAILED for a default run that diverged or missed its gates). The chunk job calls
        it right after it wrote the run's record, with the stopping signals held
        (nndl.interrupt.signals_held)."""
        self.set_tags({RECORDED_TAG: WHOLE})  # in the last batch: a run without it is an attempt
        self.flush()
        self._end(status, end_ms)

    def _end(self, status: str, end_ms: int | None = None) -> None:
        self._send(f"end it {status}", lambda: self.client.set_terminated(self.run_id, status=status, end_time=end_ms))
        self.ended = True


def batches(params: list[Param], metrics: list[Metric], tags: list[RunTag], limit: int,
            param_limit: int) -> list[tuple[list[Param], list[Metric], list[RunTag]]]:
    """[(params, metrics, tags)] for log_batch calls within MLflow's limits (`limit` items in all,
    `param_limit` params), the params first and the tags in the last: MLflow splits a bigger call
    into several, which could send the tags (the `nndl.recorded` mark among them) before the
    metrics after them. A short run's whole record is one call."""
    found: list[tuple[list[Param], list[Metric], list[RunTag]]] = []
    for start in range(0, len(params), param_limit):
        found.append((params[start:start + param_limit], [], []))
    for start in range(0, len(metrics), limit):
        chunk = metrics[start:start + limit]
        if found and not found[-1][1] and len(found[-1][0]) + len(chunk) <= limit:
            found[-1] = (found[-1][0], chunk, [])
        else:
            found.append(([], chunk, []))
    if tags and (not found or sum(map(len, found[-1][:2])) + len(tags) > limit):
        found.append(([], [], []))
    if tags:
        found[-1] = (found[-1][0], found[-1][1], tags)
    return found


@contextmanager
def tracked_run(uri: str, delivery: Delivery, experiment_id: str, run_name: str, params: dict, tags: dict,
                datasets: dict[str, dict] | None = None, start_ms: int | None = None,
                on_created: Callable[[str], None] | None = None, title: str | None = None) -> Iterator[Run]:
    """Open a new run (through `delivery`) and always close it in a final state.

    The block ends the run through `Run.finish`; a block that returns without doing so leaves it
    FAILED, as does an exception; SIGTERM, SIGHUP and Ctrl-C raised inside it leave it KILLED.
    `tags` go in when the run is created, so they win over the ones MLflow guesses
    (`mlflow.source.name` would name Snakemake's temporary copy of the script). `datasets`
    ({context: {'name', 'digest', 'source'}}) go in after the run's creation; `on_created(run id)`
    is called as soon as the store made it. `title`: its MLflow name, if not `run_name` (see Run).
    """
    identity = process_identity()
    run = Run(uri, delivery, run_name, title)
    run.start(experiment_id, {**tags, HOST_TAG: identity["host"], PID_TAG: identity["pid"]}, params, start_ms,
              on_created)
    if datasets:
        run.log_datasets(datasets)
    try:
        yield run
    except (Terminated, KeyboardInterrupt):
        _end_unfinished(run, "KILLED")  # the job gives the store SIGNAL_WAIT_S to take it (nndl.runs.chunk_job)
        raise
    except BaseException:
        _end_unfinished(run, "FAILED")
        raise
    else:
        _end_unfinished(run, "FAILED")


def _end_unfinished(run: Run, status: str) -> None:
    """End a run that did not finish: its metrics so far are kept."""
    if not run.ended:
        run.flush()
        run._end(status)
