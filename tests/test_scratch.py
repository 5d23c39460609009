"""The from-scratch pieces agree with torch.nn on the same weights."""

import torch
from torch import nn

from conftest import spec_for
from nndl.learn import linear, scratch


def test_softmax_rows_are_probabilities():
    probabilities = scratch.softmax(torch.normal(0, 1, (4, 5), generator=torch.Generator().manual_seed(0)))
    assert torch.all(probabilities >= 0)
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(4))


def test_softmax_and_cross_entropy_survive_huge_logits():
    logits = torch.tensor([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, 0.0]])
    probabilities = scratch.softmax(logits)
    assert torch.isfinite(probabilities).all()
    assert torch.allclose(probabilities[0], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(probabilities[1], torch.full((3,), 1 / 3))
    losses = scratch.cross_entropy(logits, torch.tensor([2, 0, 2]))
    assert torch.isfinite(losses).all()
    assert torch.allclose(losses, nn.functional.cross_entropy(logits, torch.tensor([2, 0, 2]), reduction="none"))


def test_the_notes_cross_entropy_example():
    # The notes: y_hat = [[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]], y = [0, 2] -> losses [2.3026, 0.6931].
    logits = torch.log(torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]))
    assert torch.allclose(scratch.cross_entropy(logits, torch.tensor([0, 2])), torch.tensor([2.3026, 0.6931]),
                          atol=1e-4)


def test_scratch_softmax_regression_matches_nn_in_loss_and_gradients():
    generator = torch.Generator().manual_seed(0)
    X = torch.rand((64, 28, 28), generator=generator)
    y = torch.randint(0, 10, (64,), generator=generator)
    W = torch.normal(0, 0.5, (784, 10), generator=generator).requires_grad_(True)
    b = torch.normal(0, 0.5, (10,), generator=generator).requires_grad_(True)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with torch.no_grad():
        net[1].weight.copy_(W.T)
        net[1].bias.copy_(b)

    ours = scratch.cross_entropy(linear.forward([(W, b)], X, spec_for("softmax").settings, training=True), y).mean()
    theirs = nn.CrossEntropyLoss()(net(X), y)
    ours.backward()
    theirs.backward()
    assert torch.allclose(ours, theirs)
    assert torch.allclose(W.grad, net[1].weight.grad.T, atol=1e-6)
    assert torch.allclose(b.grad, net[1].bias.grad, atol=1e-6)


def test_squared_loss_is_half_of_mse():
    y_hat, y = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([1.5, 2.0, 3.0])
    assert torch.allclose(scratch.squared_loss(y_hat, y).mean() * 2, nn.MSELoss()(y_hat, y.reshape(-1, 1)))


def test_sgd_steps_against_the_mean_gradient_and_clears_it():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * torch.tensor([[1.0, 1.0], [3.0, 3.0]])).sum().backward()  # summed over a batch of 2
    scratch.sgd([w], learning_rate=0.5, batch_size=2)
    assert torch.allclose(w, torch.tensor([0.0, 1.0]))  # 1 - 0.5 * 4 / 2
    assert torch.all(w.grad == 0)
