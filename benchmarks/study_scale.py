"""Ten thousand runs at linear cost: one linreg study of N tiny runs, cold, at several sizes.

    python -m benchmarks.study_scale [--sizes 100 1000 2000] [--repeats 3]

Each size: a fresh copy of the project on config/small.yaml plus one study of N linreg runs (N/2
learning rates x scratch and concise, 1 epoch, 500 examples), data acquired untimed, then the
whole pipeline cold. Targets (issue 27):
- the marginal cost of a run, (cold(N_top) - cold(N_bottom)) / (N_top - N_bottom), <= 50 ms, and
  no larger between the top two sizes than between the bottom two (linear; within LINEAR_SLACK,
  one noisy machine);
- a dry run of a 12,000-run config (6,000 rates x 2) <= 5 s;
- the no-op rerun at the largest size <= 1.5x the default config's (config.yaml), interleaved;
- at the largest size: studies.html <= 1.5 MB, the curves figure <= 4,000 px tall, every tag of
  the study's parent run valid JSON; a screenshot of the report's first screen (headless Chromium).
Also what one run's record costs the store (benchmarks.record_cost): calls and ms a run.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks import common, record_cost
from benchmarks.project import prepared_project, snakemake
from nndl.runs import names

STUDY = "scale"
TARGETS = {"marginal_ms_per_run": 50.0, "dry_run_12000_s": 5.0, "noop_over_default": 1.5,
           "studies_html_bytes": 1.5e6, "curves_px_tall": 4000}
LINEAR_SLACK = 1.2  # the top segment's cost a run may exceed the bottom's by this factor (noise)
DRY_RUN_RUNS = 12_000


def with_study(folder: Path, runs: int) -> Path:
    """Add the N-run study to the copy's config (N/2 log-spaced learning rates x 2 impls)."""
    rates = sorted({float(f"{0.001 * (300 ** (index / max(runs // 2 - 1, 1))):.6g}") for index in range(runs // 2)})
    config = yaml.safe_load((folder / "config" / "config.yaml").read_text())
    config["max_runs"] = max(config.get("max_runs", 0), runs + 100)
    config["studies"] = [{"name": STUDY, "question": f"How does the learning rate change {len(rates)} tiny runs?",
                          "task": "linreg", "impls": ["scratch", "concise"], "vary": {"learning_rate": rates},
                          "seeds": [0], "set": {"epochs": 1, "n_train": 500}, "metric": "final/train_loss"}]
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


def dry_run_seconds(scratch: Path, repeats: int) -> list[float]:
    folder = with_study(prepared_project(scratch / "dry", "small.yaml"), DRY_RUN_RUNS)
    return [snakemake(folder, "--dry-run") for _ in range(repeats)]


def report_figures(folder: Path, out: Path) -> dict:
    """At the largest size: the studies report's size, its curves figure, the parent's tags, a screenshot."""
    from mlflow.tracking import MlflowClient
    from PIL import Image

    summary = json.loads((folder / names.STUDY_SUMMARY.format(study=STUDY)).read_text())
    html = folder / names.STUDIES_REPORT
    heights = {Path(path).name: Image.open(folder / path).size for paths in summary["figures"].values()
               for path in paths if path.endswith(".png")}
    store = json.loads((folder / names.LOGGED_STUDIES).read_text())["tracking_uri"]
    tags = MlflowClient(tracking_uri=store).get_run(summary["parent_run_id"]).data.tags
    # The grid's tags hold JSON (nndl.tracking.studies.study_tags); the description is Markdown.
    study_tags = {key: value for key, value in tags.items() if key.startswith(("study.vary.", "study.set."))}
    invalid = []
    for key, value in study_tags.items():
        try:
            json.loads(value)
        except ValueError:
            invalid.append(key)
    shot = out / "study-scale-first-screen.png"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--hide-scrollbars", f"--screenshot={shot}",
                    "--window-size=1280,900", html.as_uri()], check=True, capture_output=True, timeout=120)
    return {"studies_html_bytes": html.stat().st_size, "figures_px": heights,
            "curves_px_tall": max((size[1] for name, size in heights.items() if "curves" in name), default=0),
            "parent_tag_lengths": {key: len(value) for key, value in study_tags.items()},
            "parent_tags_invalid_json": invalid, "screenshot": str(shot)}


def cold_sizes(scratch: Path, sizes: list[int]) -> tuple[dict[int, float], Path]:
    """{N: cold seconds}, and the largest size's project (kept for the no-op and the report)."""
    cold = {}
    for runs in sizes:
        folder = with_study(prepared_project(scratch / f"n{runs}", "small.yaml"), runs)
        cold[runs] = snakemake(folder)
        common.say(f"  N={runs}: cold {cold[runs]:.1f} s ({1000 * cold[runs] / runs:.1f} ms a run in all)")
        if runs != sizes[-1]:
            shutil.rmtree(folder.parent)
    return cold, folder


def noop_ratio(scratch: Path, large: Path, repeats: int) -> tuple[list[float], list[float]]:
    default = prepared_project(scratch / "default", "config.yaml")
    snakemake(default)
    large_noop, default_noop = [], []
    for repeat in range(repeats):  # interleaved: both see the same load
        large_noop.append(snakemake(large))
        default_noop.append(snakemake(default))
        common.say(f"  [{repeat + 1}/{repeats}] no-op at the largest size {large_noop[-1]:.2f} s, "
                   f"default config {default_noop[-1]:.2f} s")
    return large_noop, default_noop


def verdicts(cold: dict[int, float], dry: list[float], noops: tuple[list[float], list[float]], report: dict,
             cost: dict) -> list[dict]:
    sizes = sorted(cold)
    slope = 1000 * (cold[sizes[-1]] - cold[sizes[0]]) / (sizes[-1] - sizes[0])
    bottom = 1000 * (cold[sizes[1]] - cold[sizes[0]]) / (sizes[1] - sizes[0])
    top = 1000 * (cold[sizes[-1]] - cold[sizes[-2]]) / (sizes[-1] - sizes[-2])
    ratio = statistics.median(noops[0]) / statistics.median(noops[1])
    return [
        common.verdict(f"marginal cost a run, N={sizes[0]} to {sizes[-1]} (ms)", slope,
                       TARGETS["marginal_ms_per_run"], slope <= TARGETS["marginal_ms_per_run"]),
        common.verdict(f"linear: the top segment's ms a run over the bottom's ({top:.1f} / {bottom:.1f})",
                       top / bottom, LINEAR_SLACK, top <= LINEAR_SLACK * bottom, top_ms=top, bottom_ms=bottom),
        common.verdict(f"dry run of {DRY_RUN_RUNS} runs (s, median)", statistics.median(dry),
                       TARGETS["dry_run_12000_s"], statistics.median(dry) <= TARGETS["dry_run_12000_s"]),
        common.verdict(f"no-op rerun at N={sizes[-1]} over the default config's (medians)", ratio,
                       TARGETS["noop_over_default"], ratio <= TARGETS["noop_over_default"]),
        common.verdict(f"studies.html at N={sizes[-1]} (bytes)", report["studies_html_bytes"],
                       TARGETS["studies_html_bytes"], report["studies_html_bytes"] <= TARGETS["studies_html_bytes"]),
        common.verdict("the curves figure's height (px)", report["curves_px_tall"], TARGETS["curves_px_tall"],
                       0 < report["curves_px_tall"] <= TARGETS["curves_px_tall"]),
        common.verdict("parent run tags that are not valid JSON", len(report["parent_tags_invalid_json"]), 0,
                       not report["parent_tags_invalid_json"]),
        common.verdict("tracking-store calls a run's record makes (the issue's 9 counted 4 file copies too)",
                       cost["calls_per_run"], 5, cost["calls_per_run"] < 5),
    ]


def measure(options) -> dict:
    sizes = sorted(options.sizes or ([100, 500, 1000] if options.quick else [100, 1000, 2000]))
    repeats = options.repeats or (1 if options.quick else 3)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        started = time.perf_counter()
        dry = dry_run_seconds(scratch, repeats)
        common.say(f"  dry run of {DRY_RUN_RUNS} runs: {', '.join(f'{s:.2f}' for s in dry)} s")
        cold, large = cold_sizes(scratch, sizes)
        cost = record_cost.measure_folder(large / names.STUDIES_ROOT / STUDY / "runs", runs=100)
        common.say(f"  a run's record: {cost['calls_per_run']:.1f} tracking-store calls and {cost['files_per_run']:.1f} "
                   f"files, {cost['ms_per_run']:.1f} ms ({cost['calls']})")
        noops = noop_ratio(scratch, large, repeats)
        report = report_figures(large, options.out)
        common.say(f"  studies.html {report['studies_html_bytes']} bytes, figures {report['figures_px']}, parent "
                   f"tags {report['parent_tag_lengths']}, screenshot {report['screenshot']}")
        if options.keep:
            shutil.copytree(large, options.keep / "study-scale", dirs_exist_ok=True)
        return {"sizes": sizes, "cold_s": cold, "dry_run_s": dry, "noop_large_s": noops[0],
                "noop_default_s": noops[1], "record": cost, "report": report,
                "wall_s": time.perf_counter() - started, "verdicts": verdicts(cold, dry, noops, report, cost)}


if __name__ == "__main__":
    common.main("study_scale", measure, __doc__)
