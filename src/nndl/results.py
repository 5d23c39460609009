"""Reading what the pipeline wrote: a run's files, its MLflow run id, which figures belong to which run.

Only JSON: the jobs that log figures and render the report import this without torch.
"""

from __future__ import annotations

from pathlib import Path

from nndl import layout
from nndl.files import read_json


def run_id(run_folder: str | Path) -> str:
    """The MLflow run id of a complete run (from its completion marker)."""
    return read_json(Path(run_folder) / layout.COMPLETE)["run_id"]


def chunk_run_ids(chunk_manifests: list[str | Path]) -> dict[str, str]:
    """{run name: MLflow run id} of every run of the given chunks, in training order."""
    return {row["name"]: row["run_id"] for path in chunk_manifests for row in read_json(path)["runs"]}


def load_run(run_folder: str | Path) -> dict:
    """{'history': ..., 'metrics': ..., 'run_id': ...} of one complete run."""
    folder = Path(run_folder)
    return {"history": read_json(folder / layout.HISTORY), "metrics": read_json(folder / layout.METRICS),
            "run_id": run_id(folder)}


def figure_files_by_run(figure_manifests: list[str | Path], samples: list[str | Path]) -> dict[str, list[str]]:
    """{MLflow run id: [figure files]}: each seed's figures go to the runs they show; the data's sample
    grid goes to every softmax run."""
    files: dict[str, list[str]] = {}
    for manifest_path in figure_manifests:
        manifest = read_json(manifest_path)
        folders = manifest["run_folders"]
        for figure in manifest["figures"].values():
            for run in figure["runs"]:
                files.setdefault(run_id(folders[run]), []).extend(figure["files"])
        for run in layout.SAMPLES_OWNERS:
            files.setdefault(run_id(folders[run]), []).extend(str(path) for path in samples)
    return files


def mlflow_hint(tracked_runs: str | Path = layout.TRACKED_RUNS) -> str:
    """Where to look at the runs (the UI opens on a GenAI overview page, not on the runs)."""
    path = Path(tracked_runs)
    if not path.exists():
        return ""
    return ("Runs are tracked in MLflow. Start the UI in this folder with: mlflow ui\n"
            f"then open {layout.MLFLOW_UI}/#/experiments/{read_json(path)['experiment_id']}/runs")
