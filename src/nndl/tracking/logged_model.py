"""A run's network as an MLflow 3 LoggedModel, whose page shows what the run's page shows of it:
named for its run, logged from the workflow's script, with the run's settings as its params and the
run's final metrics linked to it, each with the data set it was measured on (the page's "Datasets
used"). Called from the Delivery's thread (nndl.tracking.run.Run.log_torch_model)."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

# What MLflow refuses in a model's name (mlflow.utils.validation._validate_logged_model_name).
NOT_IN_MODEL_NAMES = re.compile(r"[/:.%'\"]")


@dataclass(frozen=True)
class ModelRecord:
    """What a LoggedModel holds besides the network."""

    name: str  # its run's MLflow name
    params: dict  # the run's params (its settings)
    tags: dict[str, str]  # its source (mlflow.source.name: MLflow's guess is Snakemake's temporary copy) and description
    metrics: dict[str, float]  # the run's final metrics: logged to the run and linked to the model at once
    datasets: dict[str, dict[str, str]]  # {metric: {'name', 'digest', ...} of the data it was measured on}


def model_name(run_name: str) -> str:
    """The run's name as MLflow takes a model's: 'softmax-concise-seed0' as it is, 'lr=0-3 · s1 · concise'."""
    return NOT_IN_MODEL_NAMES.sub("-", run_name)


def log_torch_model(client: MlflowClient, run_id: str, model, input_example, record: ModelRecord) -> None:
    """mlflow.pytorch.log_model for run `run_id` (on the CPU, with an input example and a signature:
    numpy in, numpy out), then the run's final metrics linked to the model (one log_batch: a metric
    with a model_id goes to the run and to the model). mlflow.pytorch logs into the thread's active
    run, which this resumes, and leaves (without ending it) afterwards."""
    import mlflow
    import torch
    from mlflow.models import infer_signature
    from mlflow.tracking.fluent import _active_run_stack

    with torch.no_grad():
        output = model(torch.as_tensor(input_example)).cpu().numpy()
    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.start_run(run_id=run_id)
    try:
        logged = mlflow.pytorch.log_model(
            model, name=model_name(record.name), params=record.params, tags=record.tags,
            input_example=input_example, signature=infer_signature(input_example, output),
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"],  # skip slow inference
            # pickle, not the default pt2: torch.export would import torch._dynamo (about 5 s).
            serialization_format="pickle",
        )
    finally:
        _active_run_stack.get().pop()
    client.log_batch(run_id, metrics=linked_metrics(record, logged.model_id))


def linked_metrics(record: ModelRecord, model_id: str) -> list[Metric]:
    """The record's finite metrics (see Run.log_metrics) at step 0, linked to the model and to their data sets."""
    stamp = int(time.time() * 1000)
    found = []
    for key, value in record.metrics.items():
        if math.isfinite(value):
            dataset = record.datasets.get(key)
            found.append(Metric(key, float(value), stamp, 0, model_id=model_id,
                                dataset_name=dataset["name"] if dataset else None,
                                dataset_digest=dataset["digest"] if dataset else None))
    return found
