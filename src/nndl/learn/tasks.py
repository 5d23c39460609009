"""The chapter's two tasks and two implementations, as data. No torch: the workflow imports this
where it is parsed, to name runs and chunks."""

from __future__ import annotations

from dataclasses import dataclass

from nndl.data.fashion_mnist import NUM_CLASSES


@dataclass(frozen=True)
class Task:
    name: str
    title: str
    classify: bool
    n_outputs: int
    train_loss_kind: str  # what `train/loss` means for this task


TASKS = {
    "linreg": Task("linreg", "Linear regression on synthetic data", classify=False, n_outputs=1,
                   train_loss_kind="loss over the whole training set after each epoch, as the notes print it"),
    "softmax": Task("softmax", "Softmax regression on Fashion-MNIST", classify=True, n_outputs=NUM_CLASSES,
                    train_loss_kind="mean over the epoch's minibatches, as the notes' chart shows it"),
}
IMPLS = ("scratch", "concise")  # from scratch (own model, loss, SGD on tensors); torch.nn and torch.optim
