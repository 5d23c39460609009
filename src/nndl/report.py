"""The summary report: run the papermill template, render it to HTML, and the tables it shows."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from nndl import layout, results
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


def render(template: str | Path, notebook_path: str | Path, html_path: str | Path, parameters: dict,
           cwd: str | Path = ".") -> None:
    """Execute `template` with papermill into `notebook_path`; write it as HTML without code cells.

    If a cell raises, the executed notebook is kept as <name>.failed.ipynb beside `notebook_path`
    (its traceback shows which cell and why) and the error propagates.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    notebook_path, html_path = Path(notebook_path), Path(html_path)
    with tempfile.TemporaryDirectory() as scratch:
        executed = Path(scratch) / notebook_path.name
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = str(_kernel_spec_folder(Path(scratch) / "jupyter"))
        try:
            papermill.execute_notebook(str(template), str(executed), parameters=parameters,
                                       kernel_name=KERNEL_NAME, cwd=str(cwd), progress_bar=False)
        except Exception:
            if executed.exists():
                notebook_path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(executed, notebook_path.with_suffix(".failed.ipynb"))
            raise
        finally:
            if previous is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = previous
        notebook = nbformat.read(executed, as_version=4)
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    if errors:
        raise RuntimeError(f"{template}: {len(errors)} cell(s) raised: {errors[0].get('ename')}")
    html, _ = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                           exclude_output_prompt=True).from_notebook_node(notebook)
    with atomic_path(notebook_path) as temporary:
        nbformat.write(notebook, str(temporary))
    with atomic_path(html_path) as temporary:
        temporary.write_text(html, encoding="utf-8")


def markdown_table(headers: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.6g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def environment_table(env: dict) -> str:
    gpus = ", ".join(f"{g['name']} ({g['memory_gib']} GiB)" for g in env["gpus"]) or "none"
    rows = [["Python", env["python"]], ["platform", env["platform"]],
            *[[name, version or "not installed"] for name, version in env["versions"].items()],
            ["CUDA available", env["cuda_available"]], ["GPUs", gpus], ["CPUs", env["cpu_count"]],
            ["device used", f"{env['device']} ({env['device_name']}), config: {env['device_config']}"]]
    return markdown_table(["", "value"], rows)


def parameters(env_json: str, seeds: list[int], run_folders: dict[str, dict[str, str]],
               figure_folders: dict[str, str], samples_figure: str, tracked_runs: str,
               studies_report: str | None = None) -> dict:
    """The summary notebook's parameters, every path absolute (papermill runs it elsewhere) but
    `studies_report`, a link relative to the report (None: the config has no studies)."""
    def absolute(path: str) -> str:
        return str(Path(path).resolve())

    return {"env_json": absolute(env_json), "seeds": list(seeds),
            "run_folders": {str(seed): {run: absolute(folder) for run, folder in folders.items()}
                            for seed, folders in run_folders.items()},
            "figure_folders": {str(seed): absolute(folder) for seed, folder in figure_folders.items()},
            "samples_figure": absolute(samples_figure), "tracked_runs": absolute(tracked_runs),
            "studies_report": studies_report}


def load_runs(run_folders: dict[str, str]) -> dict[str, dict]:
    """{'linreg-scratch': {'history': ..., 'metrics': ..., 'run_id': ...}, ...} for one seed's folders."""
    return {run: results.load_run(folder) for run, folder in run_folders.items()}


def linreg_epoch_table(runs: dict) -> str:
    scratch, concise = (runs[layout.run_key("linreg", impl)]["history"]["epochs"] for impl in layout.IMPLS)
    rows = [[a["epoch"], f"{a['train/loss']:.6f}", f"{b['train/loss']:.6f}"] for a, b in zip(scratch, concise)]
    return markdown_table(["epoch", "scratch loss (with 1/2)", "concise loss (MSE, no 1/2)"], rows)


def _vector(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def linreg_error_table(runs: dict) -> str:
    rows = []
    for impl in layout.IMPLS:
        metrics = runs[layout.run_key("linreg", impl)]["metrics"]
        rows.append([impl, _vector(metrics["learned"]["w"]), _vector(metrics["learned"]["b"]),
                     _vector(metrics["vs_truth"]["w_error"]), _vector(metrics["vs_truth"]["b_error"]),
                     _vector(metrics["vs_closed_form"]["w_error"]), _vector(metrics["vs_closed_form"]["b_error"])])
    closed = runs[layout.run_key("linreg", "scratch")]["metrics"]
    rows.append(["closed form (least squares)", _vector(closed["closed_form"]["w"]),
                 _vector(closed["closed_form"]["b"]), _vector(closed["closed_form_vs_truth"]["w_error"]),
                 _vector(closed["closed_form_vs_truth"]["b_error"]), "-", "-"])
    return markdown_table(["", "w", "b", "w error (true - w)", "b error (true - b)",
                           "w - closed form", "b - closed form"], rows)


def softmax_table(runs: dict) -> str:
    rows = []
    for impl in layout.IMPLS:
        run = runs[layout.run_key("softmax", impl)]
        final = run["history"]["epochs"][-1]
        rows.append([impl, f"{final['train/loss']:.4f}", f"{final['train/accuracy']:.4f}",
                     f"{run['metrics']['test/loss']:.4f}", f"{run['metrics']['test/accuracy']:.4f}",
                     f"{run['history']['untrained']['untrained/test_accuracy']:.4f}"])
    return markdown_table(["", "train loss", "train accuracy", "test loss", "test accuracy",
                           "untrained test accuracy"], rows)


def per_class_table(runs: dict, class_names_zh: list[str]) -> str:
    scratch, concise = (runs[layout.run_key("softmax", impl)]["metrics"]["per_class_accuracy"]
                        for impl in layout.IMPLS)
    rows = [[f"{name} ({zh})", f"{scratch[name]:.3f}", f"{concise[name]:.3f}"]
            for name, zh in zip(scratch, class_names_zh)]
    return markdown_table(["class", "scratch", "concise"], rows)


def _timestamp(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def mlflow_table(summaries: list[dict], run_ids: dict[str, str]) -> str:
    """The pipeline's current runs as MLflow has them: id, status, key metrics, duration."""
    by_id = {summary["run_id"]: summary for summary in summaries}
    rows = []
    for name, run_id in run_ids.items():
        summary = by_id.get(run_id)
        if summary is None:
            rows.append([name, run_id, "not in this store", "-", "-", "-"])
            continue
        metrics = summary["metrics"]
        key = (f"test accuracy {metrics['final/test_accuracy']:.4f}" if "final/test_accuracy" in metrics
               else f"max abs w error {metrics.get('final/max_abs_w_error', float('nan')):.2g}, "
                    f"abs b error {metrics.get('final/abs_b_error', float('nan')):.2g}")
        seconds = metrics.get("train_seconds")
        rows.append([summary["run_name"], f"`{run_id}`", summary["status"], key,
                     f"{seconds:.1f} s" if seconds is not None else "-", _timestamp(summary["start_time_ms"])])
    return markdown_table(["run", "run id", "status", "key metrics", "training time", "started"], rows)


def seed_statistics_table(run_folders: dict[str, dict[str, str]]) -> str:
    """Every final metric of the four runs over the seeds: mean ± standard deviation (n - 1), min, max."""
    import statistics

    by_run: dict[str, dict[str, list[float]]] = {}
    for folders in run_folders.values():
        for run, folder in folders.items():
            summary = results.load_run(folder)["metrics"]["summary"]
            for metric, value in summary.items():
                if "/class_accuracy/" not in metric:
                    by_run.setdefault(run, {}).setdefault(metric, []).append(value)
    rows = [[run, metric.removeprefix("final/"), f"{statistics.fmean(values):.6g} ± {statistics.stdev(values):.2g}",
             f"{min(values):.6g}", f"{max(values):.6g}"]
            for run, metrics in by_run.items() for metric, values in metrics.items()]
    return markdown_table(["run", "final metric", f"mean ± std over {len(run_folders)} seeds", "min", "max"], rows)
