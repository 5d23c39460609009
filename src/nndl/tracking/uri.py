"""Which MLflow store the pipeline uses and where its UI shows the runs. No mlflow import: the
workflow calls this where it is parsed."""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
from pathlib import Path

from nndl.commands import shell
from nndl.files import read_json
from nndl.tracking.tags import live_filter

UI_ADDRESS = "http://127.0.0.1:5000"  # where `mlflow ui` serves, started in the project root


def tracking_uri(configured: str | None = None, root: str | Path | None = None) -> str:
    """MLFLOW_TRACKING_URI if set, else `configured` (mlflow.tracking_uri), else sqlite mlflow.db
    in `root` (default: the working directory), as an absolute path."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or configured
    if uri:
        return uri
    return f"sqlite:///{(Path(root or Path.cwd()) / 'mlflow.db').resolve()}"


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def export_tracking_uri(configured: str | None, root: str | Path) -> str:
    """Resolve the tracking URI (as `tracking_uri`) and put it in MLFLOW_TRACKING_URI, where the
    jobs the workflow starts find it. Returns it."""
    uri = tracking_uri(configured, root)
    os.environ["MLFLOW_TRACKING_URI"] = uri
    return uri


def runs_page(uri: str, experiment_id: str, project: str | None = None) -> str:
    """The runs table of an experiment in the UI that shows this store (it opens on a GenAI page),
    searched for `project`'s live runs when given (a shared store holds teammates' runs too, and
    a user who may not delete keeps the superseded ones: tags.live_filter)."""
    base = uri.rstrip("/") if is_server(uri) else UI_ADDRESS
    page = f"{base}/#/experiments/{experiment_id}/runs"
    return f"{page}?searchFilter={urllib.parse.quote(live_filter(project))}" if project else page


def study_view_line(study: str, link: str) -> str:
    """How a study's saved view (nndl.tracking.views) is announced: its job's log, the closing lines."""
    return f"study {study}, its runs side by side: {link}"


def closing_hint(tracked_runs: str | Path, logged_studies: str | Path | None = None, studies: tuple = ()) -> str:
    """Where to look at the runs, from what the pipeline read back from MLflow ('' before that):
    the team server's own page, or the local UI's, with how to start it; then the saved view of each
    of `studies` (the config's) that `logged_studies` (the studies' record, written by the job that
    logs them) holds for this store."""
    path = Path(tracked_runs)
    if not path.is_file():
        return ""
    tracked = json.loads(path.read_text(encoding="utf-8"))
    page = runs_page(tracked["tracking_uri"], tracked["experiment_id"], tracked.get("project"))
    # The default runs' saved view (nndl.tracking.views), where the pipeline wrote one; every run beside it.
    if tracked.get("view_page"):
        page = f"{tracked['view_page']} (the default runs side by side)\nor {page} (all of this project's runs)"
    logged = read_json(logged_studies) if logged_studies and Path(logged_studies).is_file() else {}
    if logged.get("tracking_uri") == tracked["tracking_uri"]:
        page += "".join(f"\n{study_view_line(name, link)}" for name, link in logged.get("views", {}).items()
                        if name in studies)
    uri = tracked["tracking_uri"]
    if is_server(uri):
        return f"Runs are tracked on the MLflow server {uri}: open {page}"
    # `mlflow ui` reads ./mlflow.db: name another store (a teammate's, MLFLOW_TRACKING_URI) outright.
    default = uri == f"sqlite:///{(Path.cwd() / 'mlflow.db').resolve()}"
    store = () if default else ("--backend-store-uri", uri)
    return (f"Runs are tracked in MLflow. Start the UI in this folder with: {shell(mlflow_command(), 'ui', *store)}\n"
            f"then open {page}")


def mlflow_command() -> str:
    """How to call MLflow's command line from here: the one beside this Python (the project's
    .venv, relative when it is below this folder), else `mlflow` from the PATH."""
    beside = Path(sys.executable).with_name("mlflow")
    if not beside.exists():
        return "mlflow"
    try:
        return str(Path(os.path.relpath(beside)))  # .venv/bin/mlflow
    except ValueError:
        return str(beside)
