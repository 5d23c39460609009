"""What the real pipeline does when things go wrong: bad data, bad config, no data, divergence
(signals and killed jobs: test_signals.py; missed gates and switching configs, in one process:
test_chunks.py; a damaged copy of the data and a newcomer's config mistakes: test_newcomer.py)."""

import gzip

import numpy as np
import pytest

from conftest import SYSTEM_FASHION_MNIST, output_of, real_data_config, small_config
from http_mirrors import dead_url
from mlflow_store import metric_steps, runs_by_name

pytestmark = pytest.mark.e2e
# With --cores 2 each task gets one chunk job, which trains all its runs.
CHUNK = {task: f"results/chunks/{task}-0-of-1.json" for task in ("linreg", "softmax")}


def leftover_files(workflow):
    """Files in resources/ and results/ (the temporary .part names included)."""
    return sorted(str(p.relative_to(workflow.folder)) for folder in ("resources", "results")
                  if (workflow.folder / folder).exists() for p in (workflow.folder / folder).rglob("*") if p.is_file())


@pytest.mark.parametrize("case", ["corrupted", "truncated", "wrongly named"])
def test_bad_data_file_is_named_and_nothing_is_left(workflow, tmp_path, case):
    local = tmp_path / "local"
    local.mkdir()
    payload = gzip.compress(np.random.default_rng(0).integers(0, 255, 20_000, dtype=np.uint8).tobytes())
    name = {"corrupted": "train-images-idx3-ubyte.gz", "truncated": "train-images-idx3-ubyte.gz",
            "wrongly named": "train-images.idx3-ubyte.gz"}[case]
    (local / name).write_bytes(payload[: len(payload) // 2] if case == "truncated" else payload)
    workflow.write_config(real_data_config(local))
    result = workflow.run("resources/fashion-mnist/manifest.json", check=False)
    message = output_of(result)
    assert result.returncode != 0
    assert "train-images-idx3-ubyte.gz" in message
    expected = {"corrupted": "failed verification", "truncated": "not a complete gzip file",
                "wrongly named": "rename to train-images-idx3-ubyte.gz"}[case]
    assert expected in message
    assert leftover_files(workflow) == []


def test_no_data_and_no_network_lists_every_source_and_the_fixes(workflow, tmp_path):
    """The system copy switched off (system_dir: null): said as such, not as "not installed"."""
    config = real_data_config(tmp_path / "no-such-folder", system_dir=None, mirrors=[dead_url()])
    workflow.write_config(config)
    result = workflow.run("resources/fashion-mnist/manifest.json", check=False)
    message = output_of(result)
    assert result.returncode != 0
    installed = (SYSTEM_FASHION_MNIST / "t10k-labels-idx1-ubyte.gz").exists()
    system_fix = (f"installed here but switched off in the config (data.fashion_mnist.system_dir: null): "
                  f"set system_dir: {SYSTEM_FASHION_MNIST}" if installed else "apt-get install dataset-fashion-mnist")
    for expected in ["could not be found in any source", "data.fashion_mnist.local_dir", "no-such-folder",
                     "the system copy (data.fashion_mnist.system_dir): switched off (null in the config)",
                     "download mirrors", "127.0.0.1", system_fix, "set data.fashion_mnist.local_dir"]:
        assert expected in message, expected
    assert leftover_files(workflow) == []


@pytest.mark.parametrize("dotted, value, key", [
    # One unknown key, one bad value: tests/test_config.py checks the messages without Snakemake.
    ("not_a_key", 1, "not_a_key"),
    ("softmax.learning_rate", "fast", "softmax.learning_rate"),
])
def test_bad_config_stops_before_any_job(workflow, dotted, value, key):
    config = small_config()
    node = config
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    workflow.write_config(config)
    result = workflow.run(check=False)
    assert result.returncode != 0
    assert "invalid config" in output_of(result) and key in output_of(result)
    assert not workflow.path("results").exists() and not workflow.path("resources").exists()


def test_divergence_fails_the_job_at_the_first_bad_epoch_and_the_run(workflow):
    config = small_config()
    config["linreg"]["learning_rate"] = 1000
    workflow.write_config(config)
    result = workflow.run(CHUNK["linreg"], check=False)
    assert result.returncode != 0
    assert "linreg-scratch-seed0 diverged at epoch 1, step " in output_of(result)
    run = runs_by_name(workflow.tracking_uri, "nndl-small")["linreg-scratch-seed0"]
    assert run.info.status == "FAILED" and run.data.tags["outcome"].startswith("diverged at epoch 1")
    # The epoch's record reached MLflow (queued metrics are sent when a run fails); its non-finite
    # losses did not (MLflow would chart them as 1.8e308).
    assert metric_steps(workflow.tracking_uri, run.info.run_id, "epoch_seconds") == [1]
    assert metric_steps(workflow.tracking_uri, run.info.run_id, "train/loss") == []
    assert not workflow.run_folder("linreg-scratch-seed0").exists()
