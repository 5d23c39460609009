"""benchmarks/gpu_check.py, the one call a lent GPU machine gets, runs end to end here on the CPU."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT, TWO_TASKS
from nndl.tasks.types import IMPLS


@pytest.mark.e2e
def test_the_gpu_check_runs_end_to_end_on_the_cpu(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--stand-in", "--epochs", "2",
         "--study-rates", "2", "--study-seeds", "2", "--configs", "small.yaml", "--tasks", *TWO_TASKS,
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    assert report["failures"] == []
    assert set(report["training"]) == {"scratch", "concise", "floor"}
    assert report["study"]["runs"] == 4 and report["study"]["chunk_wall_s"] > 0
    assert len(report["pipeline"]) == len(IMPLS) * len(TWO_TASKS) and all(row["recorded_device"] for row in report["pipeline"])
    assert [row["target"].split(":")[0] for row in report["verdicts"]] == [
        "softmax epoch, data resident", "4-run study in one process", "the same, tracked in MLflow as a chunk job",
        "every MLflow run recorded the device's name"]
    for line in ("training:", "study:", "pipeline:", "targets:"):
        assert line in result.stdout
