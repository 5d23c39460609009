"""A chunk job's session: what its runs share (the store, the code's fingerprint, the data loaded
once, the study parents), through which each run passes learn, evaluate, write, track."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import torch

from nndl.data.tensors import TaskData, dataset_identity, load_task_data
from nndl.learn.device import device_name, resolve_device
from nndl.learn.learners import Objective
from nndl.learn.run import RunResult, train_and_evaluate
from nndl.provenance import git_state, package_versions
from nndl.runs import outcome, record
from nndl.runs.outputs import write_outputs
from nndl.runs.specs import describe_run, run_params, spec_hash
from nndl.tracking import repairs, store, tags
from nndl.tracking.run import Run, tracked_run
from nndl.tracking.studies import study_parent
from nndl.tracking.uri import tracking_uri


@dataclass
class ChunkSession:
    uri: str
    experiment: str
    experiment_id: str
    code: str  # the training code's fingerprint
    parents: dict[str, str]  # {study: its MLflow parent run id}
    static_tags: dict[str, str]  # what every run of the chunk shares: git, versions, source
    log: TextIO
    console: TextIO
    data: dict[tuple, TaskData] = field(default_factory=dict)
    identities: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def open(cls, specs: list[dict], experiment: str, code: str, project_root: str | Path, source: str,
             log: TextIO, console: TextIO) -> ChunkSession:
        """Set the threads the specs ask for, make the store and the experiment if need be, find or
        make the study parents, and mark KILLED the runs that killed jobs left RUNNING."""
        torch.set_num_threads(specs[0]["threads"])  # one config key: the rule's threads and the spec's
        uri = tracking_uri()
        experiment_id = store.ensure_experiment(uri, experiment)
        parents = {name: study_parent(uri, experiment, name, source)
                   for name in sorted({spec["study"]["name"] for spec in specs if "study" in spec})}
        repairs.mark_orphaned_runs_killed(uri, experiment)
        git = git_state(project_root)
        static = {"torch_version": torch.__version__, "python_version": platform.python_version(),
                  "torch_threads": str(specs[0]["threads"]), "git_commit": git["commit"] or "unknown",
                  "git_dirty": str(git["dirty"]), tags.CODE_HASH_TAG: code, tags.SOURCE_TAG: source,
                  **{f"version.{name}": version or "not installed" for name, version in package_versions().items()}}
        return cls(uri, experiment, experiment_id, code, parents, static, log, console)

    def identity(self, spec: dict) -> dict[str, str]:
        """{'name', 'digest', 'source'} of the data a run trains on, read once per data set."""
        key = spec["data"]["path"]
        if key not in self.identities:
            self.identities[key] = dataset_identity(spec)
        return self.identities[key]

    def data_digest(self, spec: dict) -> str:
        return self.identity(spec)["digest"]

    def load(self, spec: dict, device: torch.device) -> TaskData:
        key = (spec["data"]["path"], spec.get("pixel_scale"), str(device))  # pixel_scale: softmax only
        if key not in self.data:
            loading = time.perf_counter()
            self.data[key] = load_task_data(spec["task"], spec["data"]["path"], device, spec.get("pixel_scale"))
            print(f"loaded {spec['data']['path']}: {len(self.data[key].train)} train / "
                  f"{len(self.data[key].test)} test examples on {device} in {time.perf_counter() - loading:.1f} s",
                  file=self.log, flush=True)
        return self.data[key]

    def run_tags(self, spec: dict, device: torch.device) -> dict[str, str]:
        found = {"task": spec["task"], "impl": spec["impl"], "seed": str(spec["seed"]), "device": str(device),
                 "device_name": device_name(device), tags.CONFIG_HASH_TAG: spec_hash(spec),
                 "loss": Objective.from_spec(spec).describe(spec["task"], spec["impl"]),
                 tags.RUN_DIR_TAG: spec["dir"], tags.DESCRIPTION_TAG: describe_run(spec), **self.static_tags}
        if "study" in spec:
            found.update({tags.STUDY_TAG: spec["study"]["name"], tags.ROLE_TAG: tags.STUDY_RUN_ROLE,
                          tags.PARENT_TAG: self.parents[spec["study"]["name"]]})
        return found

    def train(self, spec: dict, label: str) -> dict:
        """Train, evaluate, write and record one run; return its times."""
        started = time.perf_counter()
        record.record_path(spec["dir"]).unlink(missing_ok=True)  # an older spec's or code's
        device = resolve_device(spec["device"])
        data = self.load(spec, device)
        print(f"{label}: training on {device} ({device_name(device)}), spec {spec_hash(spec)}",
              file=self.log, flush=True)
        with tracked_run(self.uri, self.experiment, spec["name"], run_params(spec), self.run_tags(spec, device)) as run:
            run.log_dataset(**self.identity(spec))
            result = train_and_evaluate(spec, data, device, on_epoch=lambda epoch: self._epoch(run, spec, epoch))
            found = self._record(run, spec, result, device, data)
        seconds = time.perf_counter() - started
        summary = found.message if found else ", ".join(
            f"{key.removeprefix('final/')} {value:.4g}" for key, value in list(result.metrics["summary"].items())[:2])
        print(f"{label}: finished in {seconds:.1f} s, MLflow run {run.run_id}", file=self.log, flush=True)
        print(f"{label}: done in {seconds:.1f} s ({summary})", file=self.console, flush=True)
        return {"train_seconds": result.train_seconds, "evaluate_seconds": result.evaluate_seconds, "seconds": seconds}

    def _epoch(self, run: Run, spec: dict, epoch: dict) -> None:
        numbers = {key: value for key, value in epoch.items() if key != "epoch"}
        run.log_metrics(numbers, step=epoch["epoch"])
        print(f"  epoch {epoch['epoch']}/{spec['epochs']}  " + "  ".join(f"{k} {v:.6f}" for k, v in numbers.items()),
              file=self.log, flush=True)

    def _record(self, run: Run, spec: dict, result: RunResult, device: torch.device,
                data: TaskData) -> outcome.Outcome | None:
        """Judge the run, write its files and its record, and end its MLflow run; return its outcome."""
        run.log_metrics({**result.history["untrained"], **result.metrics["summary"],
                         "train_seconds": result.train_seconds, "evaluate_seconds": result.evaluate_seconds})
        for key, value in result.metrics["summary"].items():
            print(f"  {key}: {value:.6g}", file=self.log)
        found = outcome.outcome(spec, result.history)
        run.set_tags({tags.OUTCOME_TAG: outcome.tag(found)})
        if found:
            print(f"  outcome: {found.message}", file=self.log)
        if "study" not in spec:
            outcome.raise_for(spec, found)  # a default run must succeed: stop here if not
        result.history.update({"device": str(device), "device_name": device_name(device)})
        folder = spec["dir"]
        run.log_artifacts(write_outputs(folder, result.learner.state_dict(), result.history, result.metrics,
                                        result.predictions))
        # A default concise run is also an MLflow Model (loadable with mlflow.pytorch); a study run
        # keeps model.pt only: writing a Model costs about 0.3 s a run, as much as a short run.
        if spec["impl"] == "concise" and not found and "study" not in spec:
            run.log_torch_model(result.learner.net.cpu(), data.train.X[:4].cpu().numpy())
        final = record.new(spec, run.run_id, self.code, self.data_digest(spec), found, outcome.status(found))
        run.finish(lambda: record.write(final, folder), final.status)
        return found

