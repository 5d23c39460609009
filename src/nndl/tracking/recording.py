"""A chunk job's MLflow side: the experiment, the study parents and every run's record in the store.

The job hands each run over once, after its files and its record are written (nndl.runs.chunk_job):
its params, tags, description, data sets (training and testing), every epoch's metrics, final
numbers, files, model and final status go to the store in the background (nndl.tracking.delivery),
and training never waits on the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

from nndl.data.naming import test_split_identity, titled
from nndl.tasks.finals import final_metrics
from nndl.tasks.runspec import RunSpec, spec_hash
from nndl.tracking import repairs, store, tags
from nndl.tracking.ledger import Ledger, Superseder
from nndl.tracking.delivery import Delivery, refusals_said
from nndl.tracking.logged_model import ModelRecord
from nndl.tracking.run import tracked_run
from nndl.tracking.studies import study_parent
from nndl.tracking.times import trained_ms
from nndl.tracking.uri import tracking_uri
from nndl.values import point_label

TRAINING, TESTING = "training", "testing"  # MLflow's dataset contexts: the data sets a run trained and was tested on


@dataclass
class Recording:
    """What one run's MLflow record holds, made by the chunk job from the run's numbers."""

    spec: RunSpec
    key: str  # nndl.runs.record.run_key: what finds the run's files in the store
    code: str  # the fingerprint of the code that trained it (nndl.runs.code.training_code)
    history: dict  # its epochs, and the device and loss it trained with
    metrics: dict
    outcome: str  # the `outcome` tag: 'ok' or why not
    status: str  # FINISHED | FAILED
    files: list[Path] = field(default_factory=list)  # the run's final files ([]: a default run that failed)
    model: Any = None  # a concise network to log as an MLflow Model, with `example` inputs
    example: Any = None
    superseded: list = field(default_factory=list)  # this project's older MLflow runs of the key


@dataclass
class Recorder:
    uri: str
    experiment: str
    experiment_id: str
    project: str  # this project's identity (nndl.runs.project): its runs carry it; only they are superseded
    parents: dict[str, str]  # {study: its MLflow parent run id}
    static_tags: dict[str, str]  # what every run of the chunk shares: code, git, versions, source
    delivery: Delivery  # every call to the store after the recorder opened goes through it
    ledger: Ledger  # where this project notes the ids of the runs it makes
    log: TextIO
    titles: dict[str, str] = field(default_factory=dict)  # {run name: its MLflow name, where another}
    test_splits: dict[str, dict[str, str]] = field(default_factory=dict)  # {data path: its test split's identity}

    @classmethod
    def open(cls, specs: list[RunSpec], experiment: str, project: str, source: str, static_tags: dict[str, str],
             ledger_folder: str | Path, log: TextIO, titles: dict[str, str] | None = None) -> Recorder:
        """Make the store and the experiment if need be, find or make the study parents, and mark
        KILLED the runs that killed jobs left RUNNING. The project's Ledger is in `ledger_folder`;
        `titles`: {run name: its MLflow name} of the runs named otherwise in MLflow (a study's)."""
        uri = tracking_uri()
        with refusals_said(uri, experiment, None, "opening the experiment"):
            experiment_id = store.ensure_experiment(uri, experiment)
            parents = {name: study_parent(uri, experiment, name, source, project)
                       for name in sorted({spec.study.name for spec in specs if spec.study})}
            repairs.mark_orphaned_runs_killed(uri, experiment, project)
        return cls(uri, experiment, experiment_id, project, parents, {**static_tags, tags.SOURCE_TAG: source},
                   Delivery.for_store(uri), Ledger(ledger_folder, project), log, titles or {})

    def check_store(self) -> None:
        """Stop the job if the store refused a call for good (no permission, a deleted experiment)."""
        self.delivery.raise_if_refused(self.uri, self.experiment, self.experiment_id)

    def run_tags(self, recording: Recording) -> dict[str, str]:
        spec, history = recording.spec, recording.history
        found = {"task": spec.task, "impl": spec.impl, "seed": str(spec.seed), "device": history["device"],
                 "device_name": history["device_name"], tags.CONFIG_HASH_TAG: spec_hash(spec),
                 tags.RUN_KEY_TAG: recording.key, tags.PROJECT_TAG: self.project, "loss": history["loss"],
                 tags.CODE_HASH_TAG: recording.code, tags.FULL_NAME_TAG: spec.name, tags.DESCRIPTION_TAG: describe_run(spec),
                 tags.RUN_DIR_TAG: spec.dir, **self.static_tags}
        if spec.study:  # the study's question and answer are its parent run's (nndl.tracking.studies)
            found.update({tags.STUDY_TAG: spec.study.name, tags.ROLE_TAG: tags.STUDY_RUN_ROLE,
                          tags.PARENT_TAG: self.parents[spec.study.name]})
        return found

    def datasets(self, spec: RunSpec, dataset: dict[str, str]) -> dict[str, dict[str, str]]:
        """{context: identity} of the data the run trained on (`dataset`, the whole data set: its
        digest is in the run's key) and was tested on (its test split, identified once a chunk)."""
        if spec.data.path not in self.test_splits:
            self.test_splits[spec.data.path] = test_split_identity(spec.data, dataset)
        return {TRAINING: dataset, TESTING: self.test_splits[spec.data.path]}

    def record(self, recording: Recording, dataset: dict[str, str]) -> None:
        """Queue the run's whole MLflow record, ending in its final status; then supersede this
        project's older runs of its key (nndl.tracking.ledger.Superseder). `dataset`: the identity
        of the data it trained on (nndl.data.tensors.dataset_identity)."""
        spec, history = recording.spec, recording.history
        start_ms, end_ms = trained_ms(history)
        title, datasets = self.titles.get(spec.name, spec.name), self.datasets(spec, dataset)
        with tracked_run(self.uri, self.delivery, self.experiment_id, spec.name, run_params(spec),
                         self.run_tags(recording), datasets=datasets, start_ms=start_ms,
                         on_created=lambda run_id: self.ledger.remember(recording.key, run_id), title=title) as run:
            # Every final metric the task declares (a classifier's final training loss and accuracy
            # are its last epoch's), train_seconds among them: the model's too, where there is one.
            # The task's own metrics first, before the epochs': MLflow's Compare page opens its plots
            # on the first metric a run logged.
            finals = {**recording.metrics["summary"], **final_metrics(spec.definition, history, recording.metrics)}
            finals = {**{metric: finals[metric] for metric in spec.definition.metrics if metric in finals}, **finals}
            if recording.model is None:
                run.log_metrics(finals)
            else:
                run.log_torch_model(recording.model, recording.example, ModelRecord(
                    title, run_params(spec), {tags.SOURCE_TAG: self.static_tags[tags.SOURCE_TAG],
                                              tags.DESCRIPTION_TAG: describe_run(spec)},
                    finals, {metric: datasets[context] for metric in finals if (context := measured_on(metric))}))
            for epoch in history["epochs"]:
                run.log_metrics({key: value for key, value in epoch.items() if key != "epoch"}, step=epoch["epoch"])
            run.log_metrics({**history["untrained"], "evaluate_seconds": history["seconds"]["evaluate"]})
            run.set_tags({tags.OUTCOME_TAG: recording.outcome})
            run.log_artifacts(recording.files)
            run.finish(recording.status, end_ms)
        if recording.superseded:
            self.delivery.send(spec.name, "supersede its older runs", lambda: self.supersede(recording.superseded))

    def supersede(self, runs: list) -> None:
        superseder = Superseder(self.uri)
        superseder.supersede(runs)
        if line := superseder.summary():
            print(line, file=self.log, flush=True)


def run_params(spec: RunSpec) -> dict:
    """A spec's settings, what its MLflow params show: how it trained (implementation, seed, the
    task's settings), so the compare view's parallel coordinates show what varies. Its data is the
    run's dataset (name and digest), its gates and threads are in its record and tags."""
    return {"impl": spec.impl, "seed": spec.seed,
            **{item.name: getattr(spec.settings, item.name) for item in fields(spec.settings)}}


def measured_on(metric: str) -> str | None:
    """The context of the data set a metric was measured on, as its name says: 'final/test_accuracy',
    'test/class_accuracy/0-t_shirt_top' (testing); 'final/train_loss', 'train_seconds' (training);
    None for one of neither ('final/max_abs_w_error': the weights against the truth)."""
    words = set(re.split(r"[/_]", metric))
    return TESTING if "test" in words else TRAINING if "train" in words else None


def describe_run(spec: RunSpec) -> str:
    """The run's one-line description (the Description box of its MLflow page)."""
    what = f"{titled(spec.definition.heading, spec.data)} ({spec.impl})"
    if spec.study:
        return f"Study {spec.study.name}: {point_label(spec.study.point)}, seed {spec.seed}; {what}."
    return (f"{what}, seed {spec.seed}: batch {spec.settings.batch_size}, learning rate "
            f"{spec.settings.learning_rate}, {spec.settings.epochs} epochs.")
