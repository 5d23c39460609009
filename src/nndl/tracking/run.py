"""One MLflow run, opened in one place (`tracked_run`) and always closed in a final state.

FINISHED once its outputs are final (`Run.finish`), FAILED on an exception, KILLED on SIGTERM or
Ctrl-C, so no run stays RUNNING because its job was interrupted. Metrics are sent in batches.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from nndl.provenance import process_identity
from nndl.tracking.tags import HOST_TAG, PID_TAG


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (BaseException: never swallowed)."""


def _raise_terminated(signum, frame):
    raise Terminated(f"received signal {signal.Signals(signum).name}")


def flatten_params(settings: dict, prefix: str = "") -> dict[str, Any]:
    """{'data': {'seed': 0}} -> {'data.seed': 0}: MLflow params are flat."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten_params(value, name) if isinstance(value, dict) else {name: value})
    return flat


class Run:
    """Handle of an open run: everything a job logs goes through here.

    Metrics are sent in batches, at most every FLUSH_SECONDS and when the run ends: one call to the
    store per epoch costs about 10 ms on sqlite, as much as a short run's whole training. Kept
    instead of MLflow's asynchronous logging (`synchronous=False`), which was measured sending a
    batch per call: 1500 epochs of 5 metrics took 20 s to flush on sqlite, against one batch here.
    """

    FLUSH_SECONDS = 5.0
    BATCH_LIMIT = 1000  # metrics per log_batch call, MLflow's own limit

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.ended = False
        self.pending: list[Metric] = []
        self.flushed_at = time.monotonic()

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
        """Send the metrics logged since the last flush."""
        client = MlflowClient()
        for start in range(0, len(self.pending), self.BATCH_LIMIT):
            client.log_batch(self.run_id, metrics=self.pending[start:start + self.BATCH_LIMIT])
        self.pending, self.flushed_at = [], time.monotonic()

    def set_tags(self, tags: dict[str, str]) -> None:
        mlflow.set_tags(tags)

    def log_dataset(self, name: str, digest: str, source: str, context: str = "training") -> None:
        """Record the data the run trains on (the runs table's Dataset column), by name, digest and
        source, without handing MLflow the arrays."""
        import warnings

        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset

        with warnings.catch_warnings():  # "can be interpreted in multiple ways": a local path it is
            warnings.simplefilter("ignore", UserWarning)
            dataset_source = resolve_dataset_source(source)
        mlflow.log_input(MetaDataset(dataset_source, name=name, digest=digest), context=context)

    def log_artifacts(self, paths: list[str | Path], folder: str | None = None) -> None:
        for path in paths:
            mlflow.log_artifact(str(path), artifact_path=folder)

    def log_torch_model(self, model, input_example) -> None:
        """Log an nn.Module with an input example and a signature (numpy in, numpy out)."""
        import torch
        from mlflow.models import infer_signature

        with torch.no_grad():
            output = model(torch.as_tensor(input_example)).cpu().numpy()
        mlflow.pytorch.log_model(
            model, name="model", input_example=input_example,
            signature=infer_signature(input_example, output),
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"],  # skip slow inference
            # pickle, not the default pt2: torch.export would import torch._dynamo (about 5 s).
            serialization_format="pickle",
        )

    def finish(self, commit: Callable[[], None], status: str = "FINISHED") -> None:
        """Send the queued metrics, run `commit` (which makes the run's outputs final), then end the
        run in `status` (FINISHED; FAILED for a study run whose outcome is a finding).

        Ctrl-C and SIGTERM that arrive in between are held back (Python-level handlers that only
        take note: a signal mask would not do, since the kernel may deliver the signal to one of
        torch's or MLflow's threads) and acted on right after, so a run never ends FINISHED
        without its outputs, nor has final outputs while it ends KILLED.
        """
        held: list[int] = []
        previous = {signum: signal.signal(signum, lambda received, frame: held.append(received))
                    for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.flush()
            commit()
            mlflow.end_run(status=status)
            self.ended = True
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if held:  # even if the commit failed: the signal still stops the job
                os.kill(os.getpid(), held[0])  # now delivered to the handlers restored above


@contextmanager
def tracked_run(uri: str, experiment: str, run_name: str, params: dict, tags: dict) -> Iterator[Run]:
    """Open a new run and always close it in a final state.

    The block ends the run through `Run.finish`; a block that returns without doing so leaves it
    FAILED, as does an exception; SIGTERM and Ctrl-C leave it KILLED. `tags` go in when the run
    starts, so they win over the ones MLflow guesses (`mlflow.source.name` would name Snakemake's
    temporary copy of the script).
    """
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        identity = process_identity()
        active = mlflow.start_run(run_name=run_name, tags={**tags, HOST_TAG: identity["host"],
                                                           PID_TAG: identity["pid"]})
        run = Run(active.info.run_id)
        try:
            mlflow.log_params(flatten_params(params))
            yield run
        except (Terminated, KeyboardInterrupt):
            _end_unfinished(run, "KILLED")
            raise
        except BaseException:
            _end_unfinished(run, "FAILED")
            raise
        else:
            _end_unfinished(run, "FAILED")
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _end_unfinished(run: Run, status: str) -> None:
    """End a run that did not finish: its metrics so far are kept if the store takes them."""
    if run.ended:
        return
    with contextlib.suppress(MlflowException):  # the error that ended the run matters more
        run.flush()
    mlflow.end_run(status=status)
