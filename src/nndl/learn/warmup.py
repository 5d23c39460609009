"""A job's one-time warm-up, paid before its first run's clock starts.

The first minibatch a process trains pays for what no later run pays again: `torch._dynamo`'s import
at the first `torch.optim` optimizer (1-6 s), the first call of each kernel, the allocator's first
blocks. Left in the first run, it made a concise run look 30 times slower than its scratch twin
and a study of `train_seconds` measure the order of its runs. The chunk job warms each kind of
learner up once on a throwaway copy, and keeps the seconds as its own (its manifest).
"""

from __future__ import annotations

import torch

from nndl.data.tensors import Split, TaskData
from nndl.learn.learners import build_learner
from nndl.learn.loop import evaluate
from nndl.tasks.runspec import RunSpec


def warm_up(spec: RunSpec, data: TaskData, device: torch.device) -> None:
    """One update step and one evaluation of a throwaway learner built as `spec`'s, on the first
    minibatch of `data`. Touches no run: its layers come from a generator of its own, and torch's
    global generator (which nn.Linear's own initialisation draws from) is put back as it was."""
    batch = slice(0, spec.settings.batch_size)
    with torch.random.fork_rng(devices=[]):
        learner = build_learner(spec, torch.Generator().manual_seed(0), device)
        learner.step(learner.loss(learner.forward(data.train.X[batch]), data.train.y[batch]))
        evaluate(learner, Split(data.test.X[batch], data.test.y[batch]), spec.definition.classify)
