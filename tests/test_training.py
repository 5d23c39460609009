"""Training loops: scratch and concise agree, runs are reproducible, divergence and gates are caught."""

import dataclasses
import io
import math
import re

import pytest
import torch

from conftest import spec_for
from nndl.data.stand_in import generate_stand_in
from nndl.data.synthetic import make_dataset as make_arrays
from nndl.data.tensors import Split, fashion_mnist_split
from nndl.learn.evaluation import evaluate_learner
from nndl.learn.learners import build_learner
from nndl.learn.loop import fit
from nndl.runs.outcome import describe_divergence, gate_failures
from nndl.tasks.registry import TASKS


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stand-in")
    generate_stand_in(folder, 600, 200, seed=0)
    cpu = torch.device("cpu")
    return fashion_mnist_split(folder, "train", cpu), fashion_mnist_split(folder, "test", cpu)


def train_softmax(stand_in, impl, seed=0, learning_rate=0.1, epochs=2, task="softmax", **settings):
    train, test = stand_in
    generator = torch.Generator().manual_seed(seed)
    spec = spec_for(task, impl, learning_rate=learning_rate, **settings)
    learner = build_learner(spec, generator, torch.device("cpu"))
    return fit(learner, train, test, batch_size=64, epochs=epochs, generator=generator, classify=True)


def make_dataset(*args, **kwargs):
    return {name: torch.from_numpy(array) for name, array in make_arrays(*args, **kwargs).items()}


def without_times(history):
    return [{k: v for k, v in record.items() if k != "epoch_seconds"} for record in history["epochs"]]


@pytest.mark.parametrize("task, settings", [("softmax", {}), ("mlp", {}), ("mlp", {"num_hiddens": 32, "num_hiddens2": 16})])
def test_scratch_and_concise_follow_the_same_trajectory(stand_in, task, settings):
    """From the same start, on the same minibatches: the same numbers to 1e-5 (the concise model
    is nn.Sequential and torch.optim.SGD; the scratch one its own parameters, ReLU and SGD)."""
    scratch_history = without_times(train_softmax(stand_in, "scratch", task=task, **settings))
    concise_history = without_times(train_softmax(stand_in, "concise", task=task, **settings))
    for ours, theirs in zip(scratch_history, concise_history):
        for key in ours:
            assert ours[key] == pytest.approx(theirs[key], rel=1e-4, abs=1e-5), key


def test_same_seed_same_history_other_seed_other_history(stand_in):
    first = without_times(train_softmax(stand_in, "scratch", seed=1))
    assert first == without_times(train_softmax(stand_in, "scratch", seed=1))
    assert first != without_times(train_softmax(stand_in, "scratch", seed=2))


def test_history_has_untrained_baseline_and_every_epoch(stand_in):
    history = train_softmax(stand_in, "concise", epochs=3)
    assert [record["epoch"] for record in history["epochs"]] == [1, 2, 3]
    assert 0.0 <= history["untrained"]["untrained/test_accuracy"] <= 0.3
    assert history["epochs"][-1]["test/accuracy"] > 0.9


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_absurd_learning_rate_stops_at_the_first_bad_epoch(impl):
    data = make_dataset([2.0, -3.4], 4.2, 1000, 200, 0.01, seed=0)
    generator = torch.Generator().manual_seed(0)
    learner = build_learner(spec_for("linreg", impl, learning_rate=1000.0), generator, torch.device("cpu"))
    progress = io.StringIO()
    history = fit(learner, Split(data["X_train"], data["y_train"]), Split(data["X_test"], data["y_test"]),
                  10, 3, generator, classify=False, progress=progress)
    assert progress.getvalue().count("epoch ") == 1 and len(history["epochs"]) == 1
    diverged = history["diverged"]
    assert diverged["epoch"] == 1 and 1 <= diverged["step"] <= 100  # the first bad minibatch of 100
    assert not math.isfinite(diverged["step_loss"])
    assert re.fullmatch(r"diverged at epoch 1, step \d+ \(minibatch loss (nan|inf); train/loss = (nan|inf).*\)",
                        describe_divergence(diverged))


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_linreg_recovers_the_parameters(impl):
    data = make_dataset([2.0, -3.4], 4.2, 1000, 200, 0.01, seed=0)
    generator = torch.Generator().manual_seed(0)
    learner = build_learner(spec_for("linreg", impl), generator, torch.device("cpu"))
    history = fit(learner, Split(data["X_train"], data["y_train"]), Split(data["X_test"], data["y_test"]),
                  10, 3, generator, classify=False, record_trajectory=True)
    W, b = learner.weight_and_bias()
    assert torch.allclose(W.reshape(-1), data["true_w"], atol=0.01) and abs(b.item() - 4.2) < 0.01
    assert history["epochs"][-1]["train/loss"] < 1e-3
    assert len(history["trajectory"]) == 300 and len(history["trajectory"][0]) == 3


def test_the_evaluation_computes_the_metrics_a_task_declares(monkeypatch):
    """Its summary holds the task's declared final metrics in the task's order, then the details;
    declaring the weights' norm is enough to have it measured, ||w|| without the bias."""
    data = make_dataset([2.0, -3.4], 4.2, 100, 50, 0.01, seed=0)
    learner = build_learner(spec_for("linreg"), torch.Generator().manual_seed(0), torch.device("cpu"))
    train, test = Split(data["X_train"], data["y_train"]), Split(data["X_test"], data["y_test"])
    extras = {"true_w": data["true_w"], "true_b": data["true_b"]}
    declared = dataclasses.replace(TASKS["linreg"], metrics={"final/weight_norm": "min", "final/test_mse": "min"})
    summary = evaluate_learner(declared, learner, train, test, extras, 5)[0]["summary"]
    W, _ = learner.weight_and_bias()
    assert list(summary) == ["final/weight_norm", "final/test_mse", "final/max_abs_w_error_vs_closed_form",
                             "final/abs_b_error_vs_closed_form"]
    assert summary["final/weight_norm"] == pytest.approx(torch.linalg.norm(W).item())
    assert "final/weight_norm" not in evaluate_learner(TASKS["linreg"], learner, train, test, extras, 5)[0]["summary"]


def test_gate_failures_say_which_gate_and_by_how_much():
    gates = {"max_train_loss": 0.5, "min_train_accuracy": 0.7, "min_test_accuracy": 0.7}
    final = {"train/loss": 0.6, "train/accuracy": 0.8, "test/accuracy": 0.65}
    failures = gate_failures(TASKS["softmax"].gates, gates, final)
    assert failures == ["train/loss = 0.6, gate < 0.5 (off by 0.1)",
                        "test/accuracy = 0.65, gate > 0.7 (off by 0.05)"]
    errors = {"max_abs_w_error": 0.002, "abs_b_error": 0.02}
    assert gate_failures(TASKS["linreg"].gates, {"max_param_error": 0.01}, errors) == \
        ["|b error| = 0.02, gate < 0.01 (off by 0.01)"]
