"""What one run's MLflow record costs the store: calls and milliseconds a run.

    python -m benchmarks.record_cost PROJECT_FOLDER/results/studies/STUDY/runs [--runs 100]

Records the complete runs found under a finished project's run folder again, through the chunk
job's own Recorder (nndl.tracking.recording), into a fresh sqlite store, and counts each call the
MLflow client makes (the calls are counted, not replaced: the real store takes every one). The time
is from the first run handed over to the last one in the store, divided by the runs.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from benchmarks import common

CALLS = ("create_run", "log_batch", "log_inputs", "log_artifact", "set_terminated", "set_tag", "search_runs",
         "get_run", "get_experiment_by_name", "delete_run")


@contextmanager
def counted_calls(counts: Counter):
    """Count the MLflow client's calls by name while the block runs."""
    from mlflow.tracking import MlflowClient

    originals = {name: getattr(MlflowClient, name) for name in CALLS}

    def counting(name, method):
        def call(self, *args, **kwargs):
            counts[name] += 1
            return method(self, *args, **kwargs)
        return call

    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    file_copy = LocalArtifactRepository.log_artifact  # a file into the artifact store, not a tracking-store call
    for name, method in originals.items():
        setattr(MlflowClient, name, counting(name, method))
    LocalArtifactRepository.log_artifact = counting("artifact file", file_copy)
    try:
        yield counts
    finally:
        for name, method in originals.items():
            setattr(MlflowClient, name, method)
        LocalArtifactRepository.log_artifact = file_copy


def measure_folder(runs_root: Path, runs: int = 100) -> dict:
    """Record `runs` complete runs under `runs_root` (a project's) into a fresh store: calls and ms a run."""
    from nndl.data.tensors import dataset_identity
    from nndl.runs import names, outcome, record
    from nndl.runs.outputs import read_history, read_metrics
    from nndl.tracking.recording import Recorder, Recording

    project = runs_root.resolve().parents[3]  # <project>/results/studies/<study>/runs
    folders = sorted(path.parent for path in runs_root.resolve().rglob(names.RECORD))[:runs]
    before = os.getcwd()
    os.chdir(project)  # the specs name their data and folders from the project's root
    try:
        with tempfile.TemporaryDirectory() as scratch:
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(scratch) / 'mlflow.db'}"
            found = [record.read(folder) for folder in folders]
            recorder = Recorder.open([item.spec for item in found], "record-cost", "p-benchmark", "benchmark", {},
                                     Path(scratch) / "ledger", io.StringIO())
            identities = {item.spec.data.path: dataset_identity(item.spec.data) for item in found}
            recordings = [Recording(item.spec, item.key, item.code_hash, read_history(folder), read_metrics(folder),
                                    outcome.tag(item.outcome), item.status,
                                    files=[folder / name for name in record.OUTPUT_FILES])
                          for item, folder in zip(found, folders)]
            counts: Counter = Counter()
            with counted_calls(counts):
                started = time.perf_counter()
                for recording in recordings:
                    recorder.record(recording, identities[recording.spec.data.path])
                recorder.delivery.wait(600)
                seconds = time.perf_counter() - started
    finally:
        os.chdir(before)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    store_calls = sum(count for name, count in counts.items() if name != "artifact file")
    return {"runs": len(recordings), "calls": dict(counts), "calls_per_run": store_calls / len(recordings),
            "files_per_run": counts["artifact file"] / len(recordings),
            "ms_per_run": 1000 * seconds / len(recordings)}


if __name__ == "__main__":
    options = common.parser(__doc__)
    options.add_argument("runs_root", type=Path)
    parsed = options.parse_args()
    result = measure_folder(parsed.runs_root, parsed.runs or 100)
    common.say(f"{result['runs']} runs: {result['calls_per_run']:.1f} tracking-store calls and "
               f"{result['files_per_run']:.1f} artifact files a run ({result['calls']}), "
               f"{result['ms_per_run']:.1f} ms a run")
    sys.exit(0)
