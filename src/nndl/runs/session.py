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
from nndl.files import check_writable, writing
from nndl.learn.learners import Objective, load_concise_net
from nndl.learn.run import train_and_evaluate
from nndl.provenance import git_state, package_versions
from nndl.runs import names, outcome, record
from nndl.runs.outputs import read_history, read_metrics, write_outputs
from nndl.runs.specs import describe_run, run_params, spec_hash
from nndl.tracking import ledger, repairs, store, tags
from nndl.tracking.delivery import Delivery
from nndl.tracking.run import Run, tracked_run
from nndl.tracking.studies import study_parent
from nndl.tracking.uri import tracking_uri


RUN_NOT_WRITTEN = ("Nothing was half-written: the run being written has no record and is trained again; the runs "
                   "complete before it are kept.")


@dataclass
class ChunkSession:
    uri: str
    experiment: str
    experiment_id: str
    project: str  # this project's identity (nndl.project): its runs carry it; only they are superseded
    code: str  # the training code's fingerprint
    parents: dict[str, str]  # {study: its MLflow parent run id}
    static_tags: dict[str, str]  # what every run of the chunk shares: git, versions, source
    delivery: Delivery  # every call to the store after the session opened goes through it
    log: TextIO
    console: TextIO
    data: dict[tuple, TaskData] = field(default_factory=dict)
    superseded: dict[str, list] = field(default_factory=dict)  # {run key: MLflow runs to supersede once recorded}
    identities: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def open(cls, specs: list[dict], experiment: str, project: str, code: str, project_root: str | Path,
             source: str, log: TextIO, console: TextIO) -> ChunkSession:
        """Set the threads the specs ask for, make the store and the experiment if need be, find or
        make the study parents, and mark KILLED the runs that killed jobs left RUNNING."""
        torch.set_num_threads(specs[0]["threads"])  # one config key: the rule's threads and the spec's
        uri = tracking_uri()
        experiment_id = store.ensure_experiment(uri, experiment)
        parents = {name: study_parent(uri, experiment, name, source, project)
                   for name in sorted({spec["study"]["name"] for spec in specs if "study" in spec})}
        repairs.mark_orphaned_runs_killed(uri, experiment, project)
        git = git_state(project_root)
        static = {"torch_version": torch.__version__, "python_version": platform.python_version(),
                  "torch_threads": str(specs[0]["threads"]), "git_commit": git["commit"] or "unknown",
                  "git_dirty": str(git["dirty"]), tags.CODE_HASH_TAG: code, tags.SOURCE_TAG: source,
                  **{f"version.{name}": version or "not installed" for name, version in package_versions().items()}}
        return cls(uri, experiment, experiment_id, project, code, parents, static, Delivery.for_store(uri), log,
                   console)

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

    def run_tags(self, spec: dict, device: str, device_label: str) -> dict[str, str]:
        found = {"task": spec["task"], "impl": spec["impl"], "seed": str(spec["seed"]), "device": device,
                 "device_name": device_label, tags.CONFIG_HASH_TAG: spec_hash(spec),
                 tags.RUN_KEY_TAG: record.run_key(spec, self.code, self.data_digest(spec)), tags.PROJECT_TAG: self.project,
                 "loss": Objective.from_spec(spec).describe(spec["task"], spec["impl"]),
                 tags.RUN_DIR_TAG: spec["dir"], tags.DESCRIPTION_TAG: describe_run(spec), **self.static_tags}
        if "study" in spec:
            found.update({tags.STUDY_TAG: spec["study"]["name"], tags.ROLE_TAG: tags.STUDY_RUN_ROLE,
                          tags.PARENT_TAG: self.parents[spec["study"]["name"]]})
        return found

    def train(self, spec: dict, label: str) -> dict:
        """Train, evaluate, write and record one run; return its times. This project's earlier MLflow
        runs of it (an interrupted attempt, a record whose files were lost) are superseded once it is
        recorded (nndl.tracking.ledger.Superseder)."""
        started = time.perf_counter()
        check_writable(spec["dir"], RUN_NOT_WRITTEN)  # said before training, not after
        record.record_path(spec["dir"]).unlink(missing_ok=True)  # an older spec's or code's
        device = resolve_device(spec["device"])
        data = self.load(spec, device)
        print(f"{label}: training on {device} ({device_name(device)}), spec {spec_hash(spec)}",
              file=self.log, flush=True)
        with self._run(spec, str(device), device_name(device)) as run:
            result = train_and_evaluate(spec, data, device, on_epoch=lambda epoch: self._epoch(run, spec, epoch))
            result.history.update({"device": str(device), "device_name": device_name(device)})
            found = outcome.outcome(spec, result.history)
            self._log_outcome(run, found, result.metrics["summary"])
            if "study" not in spec:
                outcome.raise_for(spec, found)  # a default run must succeed: stop here if not
            with writing(spec["dir"], RUN_NOT_WRITTEN):
                write_outputs(spec["dir"], result.learner.state_dict(), result.history, result.metrics,
                              result.predictions)
            self._log_files(run, spec, result.history, result.metrics, found, data)
        seconds = time.perf_counter() - started
        summary = found.message if found else ", ".join(
            f"{key.removeprefix('final/')} {value:.4g}" for key, value in list(result.metrics["summary"].items())[:2])
        print(f"{label}: finished in {seconds:.1f} s; its files are complete, its MLflow record queued",
              file=self.log, flush=True)
        print(f"{label}: done in {seconds:.1f} s ({summary})", file=self.console, flush=True)
        return {"train_seconds": result.train_seconds, "evaluate_seconds": result.evaluate_seconds, "seconds": seconds}

    def record_again(self, spec: dict, done: record.Record) -> None:
        """Record a complete run from its files into this store and experiment (its MLflow run was
        lost, or the files were made for another store): params, tags, dataset, every epoch's
        metrics once, files, model and status, with no training. The store takes it in the
        background (nndl.tracking.delivery)."""
        folder = Path(spec["dir"])
        history, metrics = read_history(folder), read_metrics(folder)
        with self._run(spec, history["device"], history["device_name"]) as run:
            run.set_tags({tags.OUTCOME_TAG: outcome.tag(done.outcome)})
            for epoch in history["epochs"]:
                run.log_metrics({key: value for key, value in epoch.items() if key != "epoch"}, step=epoch["epoch"])
            data = self.load(spec, torch.device("cpu")) if _logs_model(spec, done.outcome) else None
            self._log_files(run, spec, history, metrics, done.outcome, data, done)

    def _run(self, spec: dict, device: str, device_label: str):
        """An MLflow run for `spec`, with its params, tags and dataset: nndl.tracking.run.tracked_run."""
        return tracked_run(self.uri, self.delivery, self.experiment_id, spec["name"], run_params(spec),
                           self.run_tags(spec, device, device_label), dataset=self.identity(spec))

    def check_store(self) -> None:
        """Stop the job if the store refused a call for good (no permission, a deleted experiment)."""
        self.delivery.raise_if_refused(self.uri, self.experiment, self.experiment_id)

    def _epoch(self, run: Run, spec: dict, epoch: dict) -> None:
        self.check_store()
        numbers = {key: value for key, value in epoch.items() if key != "epoch"}
        run.log_metrics(numbers, step=epoch["epoch"])
        print(f"  epoch {epoch['epoch']}/{spec['epochs']}  " + "  ".join(f"{k} {v:.6f}" for k, v in numbers.items()),
              file=self.log, flush=True)

    def _log_outcome(self, run: Run, found: outcome.Outcome | None, summary: dict) -> None:
        run.set_tags({tags.OUTCOME_TAG: outcome.tag(found)})
        for key, value in summary.items():
            print(f"  {key}: {value:.6g}", file=self.log)
        if found:
            print(f"  outcome: {found.message}", file=self.log)

    def _log_files(self, run: Run, spec: dict, history: dict, metrics: dict, found: outcome.Outcome | None,
                   data: TaskData | None, done: record.Record | None = None) -> None:
        """Log the run's final numbers and files, write its record (unless it has one: `done`) and
        end its MLflow run in its final status; then supersede this project's other runs of the key."""
        run.log_metrics({**history["untrained"], **metrics["summary"], "train_seconds": history["seconds"]["train"],
                         "evaluate_seconds": history["seconds"]["evaluate"]})
        folder = Path(spec["dir"])
        run.log_artifacts([folder / name for name in record.OUTPUT_FILES])
        if _logs_model(spec, found):
            net = load_concise_net(spec["task"], torch.load(folder / names.MODEL, weights_only=True))
            run.log_torch_model(net, data.train.X[:4].cpu().numpy())
        with writing(folder, RUN_NOT_WRITTEN):
            final = done or record.new(spec, self.code, self.data_digest(spec), found, outcome.status(found))
            run.finish(lambda: done or record.write(final, folder), final.status)
        if stale := self.superseded.pop(final.key, []):
            self.delivery.send(spec["name"], "supersede its older runs", lambda: self._supersede(stale))

    def _supersede(self, runs: list) -> None:
        superseder = ledger.Superseder(self.uri)
        superseder.supersede(runs)
        if line := superseder.summary():
            print(line, file=self.log, flush=True)


def _logs_model(spec: dict, found: outcome.Outcome | None) -> bool:
    """A default concise run that succeeded is also an MLflow Model (loadable with mlflow.pytorch);
    a study run keeps model.pt only: writing a Model costs about 0.3 s a run, as much as a short run."""
    return spec["impl"] == "concise" and not found and "study" not in spec
