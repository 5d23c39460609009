"""The tables the summary notebook shows, as Markdown, from the runs' files and MLflow's read-back."""

from __future__ import annotations

from datetime import datetime, timezone

from nndl.learn.tasks import IMPLS
from nndl.runs import names
from nndl.runs.outputs import load_run


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


def load_runs(run_folders: dict[str, str]) -> dict[str, dict]:
    """{'linreg-scratch': {'history', 'metrics', 'record'}, ...} for one seed's folders."""
    return {run: load_run(folder) for run, folder in run_folders.items()}


def linreg_epoch_table(runs: dict) -> str:
    scratch, concise = (runs[names.run_key("linreg", impl)]["history"]["epochs"] for impl in IMPLS)
    rows = [[a["epoch"], f"{a['train/loss']:.6f}", f"{b['train/loss']:.6f}"] for a, b in zip(scratch, concise)]
    return markdown_table(["epoch", "scratch loss (with 1/2)", "concise loss (MSE, no 1/2)"], rows)


def _vector(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def linreg_error_table(runs: dict) -> str:
    rows = []
    for impl in IMPLS:
        metrics = runs[names.run_key("linreg", impl)]["metrics"]
        rows.append([impl, _vector(metrics["learned"]["w"]), _vector(metrics["learned"]["b"]),
                     _vector(metrics["vs_truth"]["w_error"]), _vector(metrics["vs_truth"]["b_error"]),
                     _vector(metrics["vs_closed_form"]["w_error"]), _vector(metrics["vs_closed_form"]["b_error"])])
    closed = runs[names.run_key("linreg", "scratch")]["metrics"]
    rows.append(["closed form (least squares)", _vector(closed["closed_form"]["w"]),
                 _vector(closed["closed_form"]["b"]), _vector(closed["closed_form_vs_truth"]["w_error"]),
                 _vector(closed["closed_form_vs_truth"]["b_error"]), "-", "-"])
    return markdown_table(["", "w", "b", "w error (true - w)", "b error (true - b)",
                           "w - closed form", "b - closed form"], rows)


def softmax_table(runs: dict) -> str:
    rows = []
    for impl in IMPLS:
        run = runs[names.run_key("softmax", impl)]
        final = run["history"]["epochs"][-1]
        rows.append([impl, f"{final['train/loss']:.4f}", f"{final['train/accuracy']:.4f}",
                     f"{run['metrics']['test/loss']:.4f}", f"{run['metrics']['test/accuracy']:.4f}",
                     f"{run['history']['untrained']['untrained/test_accuracy']:.4f}"])
    return markdown_table(["", "train loss", "train accuracy", "test loss", "test accuracy",
                           "untrained test accuracy"], rows)


def per_class_table(runs: dict, class_names_zh: list[str]) -> str:
    scratch, concise = (runs[names.run_key("softmax", impl)]["metrics"]["per_class_accuracy"]
                        for impl in IMPLS)
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
            rows.append([name, run_id or "-", "not in this store", "-", "-", "-"])
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
            summary = load_run(folder)["metrics"]["summary"]
            for metric, value in summary.items():
                if "/class_accuracy/" not in metric:
                    by_run.setdefault(run, {}).setdefault(metric, []).append(value)
    rows = [[run, metric.removeprefix("final/"), f"{statistics.fmean(values):.6g} ± {statistics.stdev(values):.2g}",
             f"{min(values):.6g}", f"{max(values):.6g}"]
            for run, metrics in by_run.items() for metric, values in metrics.items()]
    return markdown_table(["run", "final metric", f"mean ± std over {len(run_folders)} seeds", "min", "max"], rows)
