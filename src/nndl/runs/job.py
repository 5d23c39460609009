"""What a chunk job's runs share, made once when it opens: the device and the data sets, each run's
key and spec hash, each task's code fingerprint, and the store (nndl.tracking.recording.Recorder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch

from nndl.data.tensors import DataSets
from nndl.learn.device import device_name, resolve_device
from nndl.numerics import in_force
from nndl.provenance import git_state, versions
from nndl.runs import names, record
from nndl.runs.code import training_code
from nndl.runs.outcome import Outcome
from nndl.tasks.runspec import RunSpec, spec_hash
from nndl.tasks.registry import task_named
from nndl.tracking.recording import Recorder


@dataclass
class ChunkJob:
    specs: list[RunSpec]
    device: torch.device
    device_name: str
    datasets: DataSets
    code: dict[str, str]  # {task: the fingerprint of the code that trains it}
    identities: dict[str, dict[str, str]]  # {run name: its data's {'name', 'digest', 'source'}}
    keys: dict[str, str]  # {run name: its run key (nndl.runs.record.run_key)}, computed once here
    spec_hashes: dict[str, str]  # {run name: its spec hash}
    recorder: Recorder
    log: TextIO
    console: TextIO

    @classmethod
    def open(cls, specs: list[RunSpec], experiment: str, project: str, project_root: str | Path, source: str,
             log: TextIO, console: TextIO) -> ChunkJob:
        """Set the threads and the device the specs ask for and check their numerics are in force
        (one config key each, the same for every run), identify the data, and open the store."""
        numerics = in_force(specs[0].numerics)  # set by the job's script before torch was imported
        torch.set_num_threads(specs[0].threads)  # the rule's threads and the spec's: one config key
        device = resolve_device(specs[0].device)
        datasets = DataSets(device, log)
        code = {task: training_code(task_named(task)) for task in {spec.task for spec in specs}}
        identities = {spec.name: datasets.identity(spec.data) for spec in specs}
        keys = {spec.name: record.run_key(spec, code[spec.task], identities[spec.name]["digest"]) for spec in specs}
        git = git_state(project_root)
        static = {"torch_threads": str(specs[0].threads), "git_commit": git["commit"] or "unknown",
                  "git_dirty": str(git["dirty"]), **{f"numerics.{key}": value for key, value in numerics.items()},
                  **{f"version.{name}": version for name, version in versions().items()}}
        # A study run's MLflow name says what differs first (its full name stays in a tag).
        titles = {spec.name: names.study_run_title(spec.study.point, spec.impl, spec.seed) for spec in specs if spec.study}
        recorder = Recorder.open(specs, experiment, project, source, static, Path(project_root) / names.LEDGER_DIR, log,
                                 titles)
        return cls(specs, device, device_name(device), datasets, code, identities, keys,
                   {spec.name: spec_hash(spec) for spec in specs}, recorder, log, console)

    @property
    def digests(self) -> dict[str, str]:
        """{run name: the content digest of the data it trains on}."""
        return {name: identity["digest"] for name, identity in self.identities.items()}

    @staticmethod
    def logs_model(spec: RunSpec, found: Outcome | None) -> bool:
        """A default concise run that succeeded is also an MLflow Model (loadable with mlflow.pytorch);
        a study run keeps model.pt only: writing a Model costs about 0.3 s a run, as much as a short run."""
        return spec.impl == "concise" and not found and spec.study is None

