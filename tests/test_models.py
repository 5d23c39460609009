"""The model interface (nndl.learn.learners) holds for a model unlike the chapter's (tests/conv_model.py:
a convolution on the images, dropout, weight decay): both implementations start alike, the loop
switches training and evaluation, a model's masks come from the run's seed, and a penalty from
scratch is the optimizer's parameter groups concise."""

from dataclasses import replace

import pytest
import torch

from conftest import spec_for
from nndl.data.stand_in import generate_stand_in
from nndl.data.tensors import TaskData, fashion_mnist_split
from nndl.learn.learners import build_learner
from nndl.learn.loop import predict
from nndl.learn.run import train_and_evaluate
from nndl.tasks import registry

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> TaskData:
    folder = tmp_path_factory.mktemp("stand-in")
    generate_stand_in(folder, 300, 100, seed=0)
    return TaskData(fashion_mnist_split(folder, "train", CPU), fashion_mnist_split(folder, "test", CPU),
                    {"pixels_per_unit": 255.0})


@pytest.fixture
def conv_spec(monkeypatch):
    """A spec of softmax regression's settings whose task's model is tests/conv_model.py (made
    before the entry is added: the config's validation would want its schema blocks)."""
    specs = {impl: replace(spec_for("softmax", impl, epochs=2, batch_size=32), task="conv") for impl in ("scratch", "concise")}
    monkeypatch.setitem(registry.TASKS, "conv", replace(registry.SOFTMAX, name="conv", model="conv_model"))
    return lambda impl, seed=0: replace(specs[impl], seed=seed)


def without_times(history: dict) -> list[dict]:
    return [{key: value for key, value in record.items() if key != "epoch_seconds"} for record in history["epochs"]]


def test_both_implementations_start_alike_and_a_penalty_is_the_optimizers_weight_decay(conv_spec, images):
    """The same start (load_layers puts a (3, 1, 3, 3) kernel untransposed), the same outputs in
    evaluation mode, and after one step without dropout the same parameters: the scratch penalty
    lambda/2 ||W||^2, added once to each update's loss, moves them as SGD's weight_decay on the weights only."""
    scratch, concise = (build_learner(conv_spec(impl), torch.Generator().manual_seed(0), CPU)
                        for impl in ("scratch", "concise"))
    X, y = images.train.X[:32], images.train.y[:32]
    for learner in (scratch, concise):
        learner.train_mode(False)
    assert torch.allclose(scratch.forward(X), concise.forward(X), atol=1e-6)
    for learner in (scratch, concise):
        learner.step(learner.loss(learner.forward(X), y))
    for (W, b), (W_net, b_net) in zip(scratch.layers(), concise.layers(), strict=True):
        assert torch.allclose(W, W_net, atol=1e-6)
        assert torch.allclose(b, b_net, atol=1e-6)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_the_same_spec_gives_the_same_bits_whatever_ran_before(conv_spec, images, impl):
    """Dropout's masks come from the run's seed: the same spec trained twice, with another run and
    draws from torch's global generator in between, gives bit-identical numbers; another seed other ones."""
    first = train_and_evaluate(conv_spec(impl), images, CPU)
    torch.rand(1000)
    train_and_evaluate(conv_spec(impl, seed=1), images, CPU)
    again = train_and_evaluate(conv_spec(impl), images, CPU)
    assert without_times(first.history) == without_times(again.history)
    assert first.metrics["summary"] == again.metrics["summary"]
    other = train_and_evaluate(conv_spec(impl, seed=1), images, CPU)
    assert without_times(other.history) != without_times(first.history)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_evaluation_is_the_eval_mode_forward_and_training_drops(conv_spec, images, impl):
    """A trained dropout model's evaluation is deterministic and is its forward with dropout off; in
    training mode its outputs are another draw each time."""
    result = train_and_evaluate(conv_spec(impl), images, CPU)
    learner, test = result.learner, images.test
    outputs, metrics = predict(learner, test, classify=True)
    assert torch.equal(outputs, predict(learner, test, classify=True)[0])
    with torch.no_grad():
        learner.train_mode(False)
        eval_forward = learner.forward(test.X)
        assert torch.equal(outputs, eval_forward)
        learner.train_mode(True)
        assert not torch.equal(learner.forward(test.X), eval_forward)
    accuracy = (eval_forward.argmax(dim=1) == test.y).double().mean().item()
    assert metrics["accuracy"] == pytest.approx(accuracy)
    assert result.metrics["summary"]["final/test_accuracy"] == metrics["accuracy"]


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_a_trained_dropout_model_evaluates_deterministically_and_retrains_to_the_same_bits(images, impl):
    """d2l 4.6's model (the dropout task): evaluating it twice gives the same outputs, those of its
    forward with dropout off, which differ from a training-mode forward; the same spec trained
    twice gives bit-identical histories and final metrics."""
    spec = spec_for("dropout", impl, epochs=2, batch_size=64)
    first = train_and_evaluate(spec, images, CPU)
    outputs, _ = predict(first.learner, images.test, classify=True)
    assert torch.equal(outputs, predict(first.learner, images.test, classify=True)[0])
    with torch.no_grad():
        first.learner.train_mode(False)
        assert torch.equal(outputs, first.learner.forward(images.test.X))
        first.learner.train_mode(True)
        assert not torch.equal(outputs, first.learner.forward(images.test.X))
    again = train_and_evaluate(spec, images, CPU)
    assert without_times(first.history) == without_times(again.history)
    assert first.metrics["summary"] == again.metrics["summary"]


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_without_dropout_both_implementations_follow_one_trajectory_with_or_without_weight_decay(images, weight_decay):
    """With both probabilities 0 the scratch and concise models follow one trajectory; with weight
    decay on as well (the scratch penalty and SGD's weight_decay on the weights only agree)."""
    histories = [without_times(train_and_evaluate(spec_for("dropout", impl, epochs=2, batch_size=32, dropout1=0.0,
                                                           dropout2=0.0, weight_decay=weight_decay),
                                                  images, CPU).history)
                 for impl in ("scratch", "concise")]
    for ours, theirs in zip(*histories):
        for key in ours:
            assert ours[key] == pytest.approx(theirs[key], rel=1e-4, abs=1e-5), key
