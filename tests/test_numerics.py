"""The portable numerics (nndl.numerics) and the job's warm-up (nndl.learn.warmup): the
settings are in force where asked for and refused where they came too late; a portable run is a
run of its own; warming up changes no run's numbers."""

import os
import subprocess
import sys

import pytest
import torch
import yaml

from conftest import ROOT, SCHEMA, spec_for
from nndl.config.validate import validate
from nndl.data.tensors import Split, TaskData
from nndl.errors import ConfigError, NumericsError
from nndl.numerics import FAST, MODES, PORTABLE, PORTABLE_CAPABILITY, PORTABLE_ENVIRONMENT, in_force, prepare
from nndl.learn.run import train_and_evaluate
from nndl.learn.warmup import warm_up
from nndl.runs.specs import training_key
from nndl.tasks.runspec import RunSpec, spec_hash

CPU = torch.device("cpu")


def test_this_process_computes_with_the_portable_settings():
    """conftest.py prepared them before torch was imported: torch dispatches to its AVX2 kernels."""
    found = in_force(PORTABLE)
    assert found == {"mode": PORTABLE, "cpu_capability": PORTABLE_CAPABILITY, **PORTABLE_ENVIRONMENT}
    prepare(PORTABLE)  # already in force: nothing to refuse


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_portable_settings_after_torch_are_refused_with_the_fix():
    """A process that imported torch without them cannot have them: said, with what to set."""
    bare = {key: value for key, value in os.environ.items() if key not in PORTABLE_ENVIRONMENT}
    late = _python("import torch\nfrom nndl.numerics import prepare\nprepare('portable')", bare)
    assert late.returncode != 0
    assert "NumericsError: portable numerics must be set before torch is imported" in late.stderr
    assert "MKL_CBWR=COMPATIBLE" in late.stderr and "ATEN_CPU_CAPABILITY=avx2" in late.stderr
    # Prepared first, torch loads with them: its own kernels are the AVX2 ones, on any x86-64 CPU.
    early = _python("from nndl.numerics import prepare, in_force\nprepare('portable')\nimport torch\n"
                    "print(in_force('portable')['cpu_capability'])", bare)
    assert early.stdout.strip() == PORTABLE_CAPABILITY, early.stderr
    # Fast sets nothing and refuses nothing: torch keeps this CPU's own kernels, and none of the
    # portable settings is in the environment it records.
    fast = _python("import torch\nfrom nndl.numerics import prepare, in_force\nprepare('fast')\n"
                   "print(sorted(in_force('fast')))", bare)
    assert fast.stdout.strip() == "['cpu_capability', 'mode']", fast.stderr


def test_an_unknown_mode_is_refused_where_the_config_is_validated():
    with pytest.raises(ConfigError, match="config key 'numerics'"):
        validate({"numerics": "exact"}, SCHEMA)
    with pytest.raises(NumericsError, match="'exact' is not one of fast, portable"):
        prepare("exact")


def test_a_portable_run_is_a_run_of_its_own_and_a_fast_one_keeps_its_hashes():
    fast = spec_for("softmax", "concise")
    portable = RunSpec.from_json(fast.to_json() | {"numerics": PORTABLE})
    assert fast.numerics == FAST and "numerics" not in fast.to_json()  # every earlier hash and folder kept
    assert portable.numerics == PORTABLE and RunSpec.from_json(portable.to_json()) == portable
    assert training_key(portable) != training_key(fast) and spec_hash(portable) != spec_hash(fast)
    assert validate({"numerics": PORTABLE}, SCHEMA)["numerics"] == PORTABLE
    schema = yaml.safe_load(SCHEMA.read_text())["properties"]["numerics"]
    assert tuple(schema["enum"]) == MODES and schema["default"] == FAST  # the modes, said twice, agree


def _numbers(result) -> dict:
    epochs = [{key: value for key, value in epoch.items() if key != "epoch_seconds"} for epoch in result.history["epochs"]]
    return {"epochs": epochs, "summary": result.metrics["summary"], "state": {
        name: tensor.tolist() for name, tensor in result.state.items()}}


def test_a_warm_up_pays_the_first_optimizer_import():
    """What made the first concise run slow (torch._dynamo, imported by the first torch.optim
    optimizer) is paid by the warm-up, in a fresh process."""
    code = ("import sys, torch\nsys.path.insert(0, 'tests')\nfrom conftest import spec_for\n"
            "from nndl.data.tensors import Split, TaskData\nfrom nndl.learn.warmup import warm_up\n"
            "X, y = torch.rand(8, 28, 28), torch.randint(0, 10, (8,))\n"
            "before = 'torch._dynamo' in sys.modules\n"
            "warm_up(spec_for('softmax', 'concise', batch_size=4), TaskData(Split(X, y), Split(X, y)), torch.device('cpu'))\n"
            "print(before, 'torch._dynamo' in sys.modules)")
    found = _python(code, dict(os.environ))
    assert found.stdout.split() == ["False", "True"], found.stderr


def test_warming_up_changes_no_run():
    """A warm-up leaves the data and torch's global generator as they were, and the run trained
    after it gives the numbers it gives alone."""
    images = torch.Generator().manual_seed(1)
    X, y = torch.rand(96, 28, 28, generator=images), torch.randint(0, 10, (96,), generator=images)
    data = TaskData(Split(X[:64], y[:64]), Split(X[64:], y[64:]), {"pixels_per_unit": 255.0})
    spec = spec_for("mlp", "concise", epochs=2, batch_size=16)
    alone = _numbers(train_and_evaluate(spec, data, CPU))
    before_warm_up = (X.clone(), torch.get_rng_state())
    for kind in (spec, spec_for("mlp", "scratch", batch_size=16), spec_for("softmax", "concise", batch_size=16)):
        warm_up(kind, data, CPU)
    assert torch.equal(X, before_warm_up[0]) and torch.equal(torch.get_rng_state(), before_warm_up[1])
    assert _numbers(train_and_evaluate(spec, data, CPU)) == alone
