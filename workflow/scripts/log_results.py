"""Snakemake adapter: put one seed's evaluation metrics, JSON files and figures into its MLflow runs."""

from pathlib import Path

from nndl import config, report, tracking
from nndl.files import read_json, write_json
from nndl.joblog import job_log


def by_run(paths):
    """results/runs/softmax-scratch/seed-0/metrics.json -> {'softmax-scratch': path}"""
    return {Path(path).parent.parent.name: path for path in paths}


with job_log(snakemake.log[0]) as log:
    run_ids = {run: Path(path).read_text().strip() for run, path in by_run(snakemake.input.run_ids).items()}
    metrics, predictions = by_run(snakemake.input.metrics), by_run(snakemake.input.predictions)
    figures = [*snakemake.input.figures, *snakemake.input.extra, *snakemake.input.samples]
    artifacts = {
        run: [(metrics[run], None), (predictions[run], None)]
        + [(figure, "figures") for figure in figures if run in report.figure_owners(figure, list(run_ids))]
        for run in run_ids
    }
    uri = config.tracking_uri(snakemake.config, Path.cwd())
    experiment = snakemake.params.experiment
    tracking.log_results(uri, run_ids, {run: read_json(path)["summary"] for run, path in metrics.items()}, artifacts)
    experiment_id, total = tracking.experiment_run_count(uri, experiment)
    summaries = tracking.run_summaries(uri, experiment, list(run_ids.values()))
    print(f"logged metrics and {sum(map(len, artifacts.values()))} files into {len(run_ids)} runs", file=log)
    write_json({"tracking_uri": uri, "experiment": experiment, "experiment_id": experiment_id,
                "experiment_runs": total, "runs": summaries}, snakemake.output[0])
