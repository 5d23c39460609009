"""A chunk: several runs of one task, trained and evaluated one after another in one process.

The process pays its imports (torch, MLflow, torch._dynamo through the first optimizer) once, loads
each data set once, then for each run: trains, evaluates, writes the run's files and ends its own
MLflow run. Each run keeps its own folder, MLflow run and section of the job's log.

When a run is complete: its folder holds all its files and `complete.json`, which holds the spec it
was trained from, the hash of the training code (every nndl module this one imports) and its
outcome (None, or why a study run failed); the spec must equal today's except for the gates, which
are checks, not training: a complete run is checked against today's gates from its saved history,
never retrained for them. The marker is written last, and the MLflow run ends in its final status
(FINISHED; FAILED for a study run with an outcome) right after it with Ctrl-C and SIGTERM held back in between
(`tracking.Run.finish`), so a run that finished keeps its files and its final status whatever stops
the job later, and a rerun of the chunk trains only the runs that are not complete. A SIGKILL
between the marker and the end of the run leaves the run RUNNING (then KILLED by the orphan sweep);
the next chunk job that finds the marker ends it in its final status, since its outputs are whole.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path
from typing import TextIO

import torch

from nndl import codedeps, layout, runs, tracking
from nndl.config import tracking_uri
from nndl.datasets import TaskData, dataset_identity, load_task_data
from nndl.device import device_name, resolve_device
from nndl.envinfo import package_versions
from nndl.files import read_json, write_json
from nndl.models import Objective
from nndl.provenance import git_state
from nndl.specs import group_of, point_label, run_params, spec_hash


def code_hash() -> str:
    """The hash of the training code: this module and every nndl module it imports."""
    return codedeps.fingerprint(Path(__file__).parent, __name__.rsplit(".", 1)[-1])


def _without_gates(spec: dict) -> dict:
    return {key: value for key, value in spec.items() if key != "gates"}


def is_complete(spec: dict, code: str) -> dict | None:
    """The run's completion marker if the run was trained from this spec (gates aside) by this
    code and every file of the run is there; None otherwise."""
    folder = Path(spec["dir"])
    marker_path = folder / layout.COMPLETE
    if not marker_path.is_file():
        return None
    marker = read_json(marker_path)
    if marker.get("code_hash") != code or _without_gates(marker.get("spec", {})) != _without_gates(spec):
        return None
    if not all((folder / name).is_file() for name in layout.RUN_FILES):
        return None
    return marker


def run_chunk(specs: list[dict], manifest_path: str | Path, experiment: str, project_root: str | Path,
              threads: int, source: str, log: TextIO = sys.stderr, console: TextIO = sys.stdout) -> dict:
    """Train and evaluate every run of `specs` that is not complete; write the chunk's manifest.

    `source` names the workflow script (MLflow's `mlflow.source.name`). A study's runs are nested
    under its MLflow parent run, found or created here. A default run that diverges or misses its
    gates ends FAILED and stops the chunk with its error; the runs before it stay complete. A study
    run that does is a finding: it ends FAILED with an `outcome` tag saying why, is complete, and
    the chunk goes on.
    """
    started = time.perf_counter()
    torch.set_num_threads(threads)
    uri, code = tracking_uri(), code_hash()
    experiment_id = tracking.ensure_experiment(uri, experiment)
    parents = {name: tracking.study_parent(uri, experiment, name, source)
               for name in sorted({spec["study"]["name"] for spec in specs if "study" in spec})}
    tracking.mark_orphaned_runs_killed(uri, experiment)
    markers = {spec["name"]: is_complete(spec, code) for spec in specs}
    # A complete run is checked against today's gates from its saved history (a default run that
    # misses them stops the job here); its MLflow run gets the status and tags that follow.
    expected = {}
    for spec in specs:
        marker = markers[spec["name"]]
        if marker:
            expected[marker["run_id"]] = expected_state(spec, read_json(Path(spec["dir"]) / layout.HISTORY), parents)
    present, repaired = tracking.reconcile_runs(uri, experiment, expected)
    for run_id in repaired:
        print(f"run {run_id}: its files are complete; set its final status and tags "
              f"({expected[run_id]['status']}, {expected[run_id]['tags'].get(tracking.OUTCOME_TAG)})", file=log)
    # A complete run's MLflow run must be in this store and experiment; one that is not (another
    # MLFLOW_TRACKING_URI, a renamed experiment, a deleted run) is trained again, here.
    markers = {name: marker if marker and marker["run_id"] in present else None for name, marker in markers.items()}
    context = RunContext(uri, experiment, code, threads, git_state(project_root), source, parents, log, console)
    rows = []
    for position, spec in enumerate(specs, 1):
        label = f"[{position}/{len(specs)}] {spec['name']}"
        marker = markers[spec["name"]]
        if marker:
            state = expected[marker["run_id"]]
            if state["outcome"] != marker.get("outcome"):  # gates changed: the marker says what holds now
                write_json({**marker, "outcome": state["outcome"], "status": state["status"]},
                           Path(spec["dir"]) / layout.COMPLETE)
            print(f"{label}: complete (spec {marker['spec_hash']}), not trained again", file=log, flush=True)
            print(f"{label}: complete, skipped", file=console, flush=True)
            rows.append({"name": spec["name"], "dir": spec["dir"], "spec_hash": marker["spec_hash"],
                         "run_id": marker["run_id"], "trained": False, "outcome": state["outcome"]})
            continue
        rows.append(context.train(spec, label))
    trained = [row for row in rows if row["trained"]]
    manifest = {"group": specs_group(specs), "code_hash": code, "experiment_id": experiment_id,
                "study_parents": parents, "runs": rows,
                "seconds": {"in_job": time.perf_counter() - started,
                            "training": sum(row["train_seconds"] for row in trained),
                            "evaluation": sum(row["evaluate_seconds"] for row in trained)}}
    write_json(manifest, manifest_path)
    failed = sum(row["outcome"] is not None for row in rows)
    print(f"chunk done: {len(trained)} trained, {len(rows) - len(trained)} already complete"
          + (f", {failed} with an outcome other than ok (see the outcome tags)" if failed else "")
          + f", {manifest['seconds']['in_job']:.1f} s", file=log)
    return manifest


def specs_group(specs: list[dict]) -> str:
    groups = {group_of(spec) for spec in specs}
    if len(groups) != 1:
        raise ValueError(f"a chunk holds the runs of one group, not of {sorted(groups)}")
    return groups.pop()


def expected_state(spec: dict, history: dict, parents: dict[str, str]) -> dict:
    """What the MLflow run of a complete run should say: status, outcome and tags. A default run
    that fails today's gates raises (GateError), as when it was trained."""
    if "study" not in spec:
        runs.check_outcome(spec, history)
    failed = runs.outcome(spec, history)
    tags = {tracking.OUTCOME_TAG: failed or "ok"}
    if "study" in spec:
        tags[tracking.PARENT_TAG] = parents[spec["study"]["name"]]
    return {"status": "FAILED" if failed else "FINISHED", "outcome": failed, "tags": tags}


def describe_run(spec: dict) -> str:
    """The run's one-line description (the Description box of its MLflow page)."""
    what = f"{layout.TASK_TITLES[spec['task']]} ({spec['impl']})"
    if "study" in spec:
        return f"Study {spec['study']['name']}: {point_label(spec['study']['point'])}, seed {spec['seed']}; {what}."
    return (f"{what}, seed {spec['seed']}: batch {spec['batch_size']}, learning rate {spec['learning_rate']}, "
            f"{spec['epochs']} epochs.")


class RunContext:
    """What every run of a chunk shares: the store, the code, the data and devices already loaded."""

    def __init__(self, uri: str, experiment: str, code: str, threads: int, git: dict, source: str,
                 parents: dict[str, str], log: TextIO, console: TextIO):
        self.uri, self.experiment, self.code, self.threads = uri, experiment, code, threads
        self.git, self.source, self.parents, self.log, self.console = git, source, parents, log, console
        self.data: dict[tuple, TaskData] = {}
        self.versions: dict[str, str] | None = None

    def load(self, spec: dict, device: torch.device) -> TaskData:
        pixel_scale = spec.get("pixel_scale")  # softmax only
        key = (spec["data"]["path"], pixel_scale, str(device))
        if key not in self.data:
            loading = time.perf_counter()
            self.data[key] = load_task_data(spec["task"], spec["data"]["path"], device, pixel_scale)
            print(f"loaded {spec['data']['path']}: {len(self.data[key].train)} train / "
                  f"{len(self.data[key].test)} test examples on {device} in {time.perf_counter() - loading:.1f} s",
                  file=self.log, flush=True)
        return self.data[key]

    def tags(self, spec: dict, device: torch.device) -> dict:
        if self.versions is None:
            self.versions = {f"version.{name}": version or "not installed"
                             for name, version in package_versions().items()}
        tags = {"task": spec["task"], "impl": spec["impl"], "seed": str(spec["seed"]), "device": str(device),
                "device_name": device_name(device), "torch_version": torch.__version__,
                "torch_threads": str(self.threads), "git_commit": self.git["commit"] or "unknown",
                "git_dirty": str(self.git["dirty"]), "config_hash": spec_hash(spec), "code_hash": self.code,
                "loss": Objective.from_spec(spec).describe(spec["task"], spec["impl"]),
                "python_version": platform.python_version(), "nndl.run_dir": spec["dir"], **self.versions,
                tracking.DESCRIPTION_TAG: describe_run(spec), tracking.SOURCE_TAG: self.source}
        if "study" in spec:
            tags.update({tracking.STUDY_TAG: spec["study"]["name"], tracking.ROLE_TAG: tracking.STUDY_RUN_ROLE,
                         tracking.PARENT_TAG: self.parents[spec["study"]["name"]]})
        return tags

    def train(self, spec: dict, label: str) -> dict:
        """Train, evaluate and record one run; return its row of the chunk manifest."""
        started = time.perf_counter()
        folder = Path(spec["dir"])
        (folder / layout.COMPLETE).unlink(missing_ok=True)  # a stale marker of an older spec or code
        device = resolve_device(spec["device"])
        data = self.load(spec, device)
        print(f"{label}: training on {device} ({device_name(device)}), spec {spec_hash(spec)}",
              file=self.log, flush=True)
        with tracking.tracked_run(self.uri, self.experiment, spec["name"], run_params(spec),
                                  self.tags(spec, device)) as run:
            run.log_dataset(**dataset_identity(spec))

            def report_epoch(record: dict) -> None:
                run.log_metrics({k: v for k, v in record.items() if k != "epoch"}, step=record["epoch"])
                numbers = "  ".join(f"{k} {v:.6f}" for k, v in record.items() if k != "epoch")
                print(f"  epoch {record['epoch']}/{spec['epochs']}  {numbers}", file=self.log, flush=True)

            result = runs.train_and_evaluate(spec, data, device, on_epoch=report_epoch)
            run.log_metrics({**result.history["untrained"], **result.metrics["summary"],
                             "train_seconds": result.train_seconds, "evaluate_seconds": result.evaluate_seconds})
            for key, value in result.metrics["summary"].items():
                print(f"  {key}: {value:.6g}", file=self.log)
            failed = runs.outcome(spec, result.history)
            run.set_tags({tracking.OUTCOME_TAG: failed or "ok"})
            if failed:
                print(f"  outcome: {failed}", file=self.log)
            if "study" not in spec:
                runs.check_outcome(spec, result.history)  # a default run must succeed: stop here if not
            result.history.update({"run_id": run.run_id, "device": str(device), "device_name": device_name(device)})
            result.metrics["run_id"] = run.run_id
            run.log_artifacts(runs.write_outputs(folder, result))
            # A default concise run is also an MLflow Model (loadable with mlflow.pytorch); a study
            # run keeps model.pt only: writing a Model costs about 0.3 s a run, as much as a short run.
            if spec["impl"] == "concise" and not failed and "study" not in spec:
                run.log_torch_model(result.learner.net.cpu(), data.train.X[:4].cpu().numpy())
            status = "FAILED" if failed else "FINISHED"
            marker = {"name": spec["name"], "run_id": run.run_id, "spec_hash": spec_hash(spec),
                      "code_hash": self.code, "outcome": failed, "status": status, "spec": spec}
            run.finish(lambda: write_json(marker, folder / layout.COMPLETE), status)
        seconds = time.perf_counter() - started
        summary = failed or ", ".join(f"{key.removeprefix('final/')} {value:.4g}"
                                      for key, value in list(result.metrics["summary"].items())[:2])
        print(f"{label}: finished in {seconds:.1f} s, MLflow run {run.run_id}", file=self.log, flush=True)
        print(f"{label}: done in {seconds:.1f} s ({summary})", file=self.console, flush=True)
        return {"name": spec["name"], "dir": spec["dir"], "spec_hash": spec_hash(spec), "run_id": run.run_id,
                "trained": True, "outcome": failed, "train_seconds": result.train_seconds,
                "evaluate_seconds": result.evaluate_seconds, "seconds": seconds}
