"""Which MLflow run records each run folder in an experiment, found by the record's run key (the
record itself names no MLflow run: nndl.runs.record)."""

from __future__ import annotations

from pathlib import Path

from nndl.runs import names, record
from nndl.tracking.ledger import run_ids


def mlflow_runs(uri: str, experiment: str, project: str, folders: list[str | Path]) -> dict[str, str]:
    """{folder: MLflow run id} of the run folders whose files have a whole record of `project` in
    `experiment` (found through the project's ledger, names.LEDGER_DIR: run from the project's root)."""
    keys = {str(folder): record.read(folder).key for folder in folders}
    ids = run_ids(names.LEDGER_DIR, uri, experiment, project, list(keys.values()))
    return {folder: ids[key] for folder, key in keys.items() if key in ids}
