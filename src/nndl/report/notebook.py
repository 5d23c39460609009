"""A report notebook: executed with papermill in the project's environment, rendered to HTML."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nndl.files import atomic_path

KERNEL_NAME = "nndl-python"


def _kernel_spec_folder(folder: Path) -> Path:
    """A kernelspec that runs *this* interpreter, so the report uses the project's environment
    whatever kernels the user has installed elsewhere (JUPYTER_PATH is searched first)."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "nndl (project environment)", "language": "python",
    }))
    return folder


@contextmanager
def _kernels_in(folder: Path) -> Iterator[None]:
    """JUPYTER_PATH set to `folder` (with the project's kernelspec) for the block, then as it was."""
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(_kernel_spec_folder(folder))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = previous


def _kernel_config(folder: Path):
    """The kernel talks to papermill over Unix sockets in `folder` (ZeroMQ's IPC transport), not
    TCP on localhost: nothing else on the machine can connect to it, and ipykernel prints no warning
    about unencrypted TCP on every report. The folder is a short one of its own (a socket's path
    holds at most 107 bytes; a project's folder can be deeper), so two report jobs never share one."""
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel")}})


def render(template: str | Path, notebook_path: str | Path, html_path: str | Path, parameters: dict,
           cwd: str | Path = ".") -> None:
    """Execute `template` with papermill into `notebook_path`; write it as HTML without code cells.

    If a cell raises, the executed notebook is kept as <name>.failed.ipynb beside `notebook_path`
    (its traceback shows which cell and why) and the error propagates. Every file is written whole
    or not at all (nndl.files.atomic_path), and papermill's own output goes to a scratch folder
    beside `notebook_path`: a full disk there stops the job before anything is half-written, and the
    folder it names (nndl.joblog) is the report's.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter
    from papermill.exceptions import PapermillExecutionError

    notebook_path, html_path = Path(notebook_path), Path(html_path)
    notebook_path.parent.mkdir(parents=True, exist_ok=True)
    with (tempfile.TemporaryDirectory(prefix=f".{notebook_path.stem}.", dir=notebook_path.parent) as scratch,
          tempfile.TemporaryDirectory(prefix="nndl-kernel-") as sockets):
        executed = Path(scratch) / notebook_path.name
        try:
            with _kernels_in(Path(scratch) / "jupyter"):
                papermill.execute_notebook(str(template), str(executed), parameters=parameters,
                                           kernel_name=KERNEL_NAME, cwd=str(cwd), progress_bar=False,
                                           config=_kernel_config(Path(sockets)))
        except PapermillExecutionError:  # a cell raised (not papermill itself: its output may be cut short)
            if executed.exists():
                with atomic_path(notebook_path.with_suffix(".failed.ipynb")) as temporary:
                    shutil.copyfile(executed, temporary)
            raise
        notebook = nbformat.read(executed, as_version=4)  # papermill raised if a cell did
    html, _ = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                           exclude_output_prompt=True).from_notebook_node(notebook)
    with atomic_path(notebook_path) as temporary:
        nbformat.write(notebook, str(temporary))
    with atomic_path(html_path) as temporary:
        temporary.write_text(html, encoding="utf-8")


def parameters(env_json: str, seeds: list[int], run_folders: dict[str, dict[str, str]],
               figure_folders: dict[str, str], samples_figures: list[str], tracked_runs: str,
               studies_report: dict[str, str] | None = None) -> dict:
    """The summary notebook's parameters, every path absolute (papermill runs it elsewhere) but
    `studies_report`'s links (`samples_figures`: the sample grid's png, none when no task trained on images): {'beside': from the report's folder, 'in_report': inside Snakemake's
    report} (None: the config has no studies)."""
    def absolute(path: str) -> str:
        return str(Path(path).resolve())

    return {"env_json": absolute(env_json), "seeds": list(seeds),
            "run_folders": {str(seed): {run: absolute(folder) for run, folder in folders.items()}
                            for seed, folders in run_folders.items()},
            "figure_folders": {str(seed): absolute(folder) for seed, folder in figure_folders.items()},
            "samples_figure": next((absolute(path) for path in samples_figures), None),
            "tracked_runs": absolute(tracked_runs),
            "studies_report": dict(studies_report) if studies_report else None}
