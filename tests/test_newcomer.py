"""What a newcomer types, through the real Snakemake: a study far larger than meant, local data as
people have it, and the mistakes whose messages must say the fix (numbers and lists as people
write them: test_pipeline.py, against its finished runs)."""

import gzip
import subprocess
import sys

import pytest

from conftest import SYSTEM_FASHION_MNIST, needs_system_fashion_mnist, output_of, real_data_config, small_config
from nndl.data.fashion_mnist import FILE_NAMES
from nndl.tasks.registry import TASKS
from nndl.tasks.types import IMPLS

pytestmark = pytest.mark.e2e
DATA = "resources/fashion-mnist"
MANIFEST = f"{DATA}/manifest.json"
SAMPLES = "results/figures/fashion-mnist-samples.png"
DEFAULT_RUNS = len(IMPLS) * len(TASKS)  # the small config's, one seed


def study(name: str, vary: dict, seeds: list[int]) -> dict:
    return {"name": name, "question": "How large can a grid be?", "task": "linreg", "vary": vary, "seeds": seeds}


def test_a_study_far_larger_than_meant_stops_before_any_job(workflow):
    config = small_config()
    config["studies"] = [study("huge", {"learning_rate": [0.001 * (i + 1) for i in range(20)],
                                        "batch_size": list(range(1, 21)),
                                        "init_std": [0.01 * (i + 1) for i in range(50)]}, [0, 1, 2])]
    workflow.write_config(config)
    result = workflow.run("--dry-run", check=False)
    message = output_of(result)
    assert result.returncode != 0
    total = 120_000 + DEFAULT_RUNS
    assert f"nndl: the config plans {total:,} runs, about" in message
    assert "study 'huge': 120,000 runs, about" in message
    assert "max_runs is 5,000" in message and f"max_runs: {total}" in message and f"--config max_runs={total}" in message
    assert not workflow.path("results").exists() and not workflow.path("resources").exists()

    # 200 runs: said, and planned.
    config["studies"] = [study("lr-grid", {"learning_rate": [0.01 * (i + 1) for i in range(50)]}, [0, 1])]
    workflow.write_config(config)
    result = workflow.run("--dry-run")
    assert f"nndl: the config plans {200 + DEFAULT_RUNS} runs, about" in result.stderr
    assert "study 'lr-grid': 200 runs, about" in result.stderr
    assert "rule train_chunk:" in result.stdout and "wildcards: group=study-lr-grid" in result.stdout


def test_config_mistakes_name_the_file_key_and_fix(workflow):
    config = small_config()
    config["figures"]["formats"] = ["svg"]
    workflow.write_config(config)
    result = workflow.run("--dry-run", check=False)
    assert result.returncode != 0
    assert "config key 'figures.formats': must include 'png'" in output_of(result)
    assert not workflow.path("results").exists() and not workflow.path("resources").exists()

    # A syntax error in the workflow's own config: named with its line and column, nothing made.
    workflow.path("config/config.yaml").write_text("seeds: [0]\nsoftmax:\n  epochs: 3\n learning_rate: 0.1\n")
    result = workflow.run("--dry-run", check=False)
    assert result.returncode != 0
    assert "config/config.yaml:4:2: not valid YAML" in output_of(result)
    assert not workflow.path("results").exists()

    # In a --configfile, Snakemake's own loader speaks first; the command in docs/troubleshooting.md names the place.
    workflow.write_config(small_config())
    broken = workflow.path("config/broken.yaml")
    broken.write_text("softmax:\n  epochs: 3\n learning_rate: 0.1\n")
    result = workflow.run("--dry-run", "--configfile", str(broken), check=False)
    assert result.returncode != 0 and "not valid JSON or YAML" in output_of(result)
    checked = subprocess.run([sys.executable, "-m", "nndl.config", "config/broken.yaml"], cwd=workflow.folder,
                             env=workflow.environment(), capture_output=True, text=True)
    assert checked.returncode == 1
    assert "config/broken.yaml:3:2: not valid YAML" in checked.stderr


def copy_bytes(workflow) -> dict:
    return {name: workflow.path(f"{DATA}/{name}").read_bytes() for name in FILE_NAMES}


@needs_system_fashion_mnist
def test_local_data_as_people_have_it_and_a_damaged_copy(workflow, tmp_path):
    # The four files as zcat leaves them: verified by the same checksums, kept compressed.
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    for name in FILE_NAMES:
        (unpacked / name.removesuffix(".gz")).write_bytes(gzip.decompress((SYSTEM_FASHION_MNIST / name).read_bytes()))
    workflow.write_config(real_data_config(unpacked))
    workflow.run(MANIFEST)
    verified = copy_bytes(workflow)

    # Another folder, of wrong files: where the copy came from is not the data; nothing reruns.
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for name in FILE_NAMES:
        (wrong / name).write_bytes(gzip.compress(b"not Fashion-MNIST"))
    workflow.write_config(real_data_config(wrong))
    assert "Nothing to be done" in output_of(workflow.run(MANIFEST, "--dry-run"))
    workflow.run(MANIFEST)
    assert copy_bytes(workflow) == verified

    # A file of the copy cut short: noticed where the workflow is parsed; the wrong source cannot
    # replace it, and the three good files stay.
    damaged = workflow.path(f"{DATA}/train-images-idx3-ubyte.gz")
    damaged.write_bytes(verified[damaged.name][:100_000])
    result = workflow.run(SAMPLES, check=False)
    message = output_of(result)
    assert result.returncode != 0
    assert f"nndl: {DATA}/train-images-idx3-ubyte.gz is damaged (cannot decompress" in message
    assert "failed verification" in message
    assert {name: data for name, data in copy_bytes(workflow).items() if name != damaged.name} == \
        {name: data for name, data in verified.items() if name != damaged.name}
    # With a good source again, a plain rerun replaces it and draws the samples.
    workflow.write_config(real_data_config(unpacked))
    workflow.run(SAMPLES)
    assert gzip.decompress(damaged.read_bytes()) == (unpacked / damaged.name.removesuffix(".gz")).read_bytes()
    assert workflow.path(SAMPLES).exists()
