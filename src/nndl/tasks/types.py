"""What a task is, as data: the types of the registry (nndl.tasks.registry) and of a task's settings.

No torch: the workflow imports this where it is parsed. A task's settings have no defaults here:
the config's schema fills them in (workflow/schemas/config.schema.yaml), once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from nndl.data.sources import DataSpec  # where a task's data comes from: a kind of data set
from nndl.errors import ConfigError
from nndl.settings import setting

# A task's loss family: squared, absolute or Huber loss on a number; or cross-entropy on classes.
REGRESSION, CLASSIFICATION = "regression", "classification"
# The families of chapter 3's predictions for a study (nndl.theory.choose): of least squares fitted
# by SGD (linear regression, and on any features: a polynomial's), of least squares with an L2
# penalty on the weights (weight decay), and of a convex cross-entropy on a linear model (softmax regression).
LEAST_SQUARES, PENALIZED_LEAST_SQUARES, CONVEX_CROSS_ENTROPY = (
    "least squares", "penalized least squares", "convex cross-entropy")
THEORIES = (LEAST_SQUARES, PENALIZED_LEAST_SQUARES, CONVEX_CROSS_ENTROPY)
IMPLS = ("scratch", "concise")  # from scratch (own model, loss, SGD on tensors); torch.nn and torch.optim


@dataclass(frozen=True)
class Hyperparameters:
    """What every task's settings block holds."""

    batch_size: int = setting("Minibatch size; the last minibatch of an epoch holds the remainder.", minimum=1)
    learning_rate: float = setting("SGD learning rate (> 0).", exclusiveMinimum=0)
    epochs: int = setting("Passes over the training data.", minimum=1)
    init_std: float = setting("Standard deviation of the initial weights (init normal).", minimum=0)  # W ~ N(0, init_std)
    init: str = setting("Initial weights: normal (std init_std) or zeros. Biases start at 0.",
                        enum=["normal", "zeros"], default="normal")
    reduction: str = setting("How a minibatch's losses make one update: mean (the notes), or sum (gradients "
                             "batch_size times larger).", enum=["mean", "sum"], default="mean")
    shuffle: bool = setting("true: a new random order every epoch; false: the stored order, the same minibatches "
                            "every epoch.", default=True)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))


@dataclass(frozen=True)
class RegressionSettings(Hyperparameters):
    loss: str = setting("Loss: squared (the notes), absolute, or huber (squared within huber_delta, absolute beyond).",
                        enum=["squared", "absolute", "huber"], default="squared")
    huber_delta: float = setting("Where Huber's loss turns from squared to absolute.", exclusiveMinimum=0, default=1.0)


@dataclass(frozen=True)
class ClassifierSettings(Hyperparameters):
    formula: str = setting("The softmax's formula: stable (max shift, cross-entropy from logits) or naive (the notes' "
                           "exp(o) / sum exp(o), which overflows).", enum=["stable", "naive"], default="stable")
    pixel_scale: float | str = setting(
        "Pixels are multiplied by this: 1/255 (inputs in [0, 1], the notes) or 1 (raw 0-255 pixels); a number or 1/N.",
        oneOf=[{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": "^1/[1-9][0-9]*$"}],
        default="1/255")


@dataclass(frozen=True)
class Gate:
    """One check on a run's result: `value` (a final epoch metric, or a parameter error of a
    regression) `relation` ('<' or '>') the bound under `bound` in the task's gates block."""

    label: str  # as the outcome says it: 'test/accuracy'
    value: str
    relation: str
    bound: str
    rule: dict  # the bound's config key: its description, default and JSON schema (gate_bound)


@dataclass(frozen=True)
class BookResult:
    """A number the book published for one of the task's runs, with where it was printed."""

    impl: str
    edition: str  # 'd2l 0.17.5'
    source: str  # the executed notebook it is printed in
    metrics: dict[str, float]  # {'train/loss': 0.4475, 'train/accuracy': ..., 'test/accuracy': ...}


@dataclass(frozen=True)
class Task:
    """Everything that differs between tasks, declared once (nndl.tasks.registry)."""

    name: str  # names its config blocks (settings, gates), runs, folders and chunks
    heading: str  # 'Softmax regression': its report section and figure titles
    settings: type[Hyperparameters]  # its config block, typed
    data: type[DataSpec]  # the kind of data set it trains on (nndl.data.sources; registered in DATA_KINDS)
    model: str  # the module that builds its model, from scratch and concise (the interface: nndl.learn.learners)
    loss: str  # REGRESSION | CLASSIFICATION
    n_outputs: int
    gates: tuple[Gate, ...]
    metrics: dict[str, str]  # final metric -> 'min' | 'max' (which is better); the first: a study's default
    epoch_test_metric: str  # drawn per epoch beside the training loss in a study
    seconds_per_example: float  # the cost of one example's forward and backward, for cutting chunks
    figures: tuple[str, ...]  # the kinds of its figures per seed (nndl.report.catalog)
    tables: tuple[str, ...]  # the kinds of its tables in the summary report (nndl.report.tables)
    about: str  # its report section's opening paragraph (Markdown)
    train_loss_kind: str  # what `train/loss` means for it
    theory: str | None  # LEAST_SQUARES | CONVEX_CROSS_ENTROPY: its studies' predictions; None: none applies
    no_theory: str = ""  # why there is none, said in its studies' theory block
    book: tuple[BookResult, ...] = field(default=())
    log_scale: bool = False  # a study's curves on a log scale
    # Its history holds every parameter after every SGD step (for its trajectory figure): for a model
    # of a few parameters; a wide one's would fill the history.
    trajectory: bool = False
    baseline: str | None = None  # the task its report section sets it beside (its 'baseline' table)
    defaults: dict[str, Any] = field(default_factory=dict)  # its settings' defaults where not every task's (`setting`)
    # What its comparison figure says of its two implementations' curves (a model that draws its
    # own randomness, as dropout's masks, says how they differ).
    comparison_note: str = "they start from the same weights and see the same minibatches, so their lines coincide"

    @property
    def classify(self) -> bool:
        return self.loss == CLASSIFICATION

    @property
    def setting_blocks(self) -> tuple[str, ...]:
        """The config blocks whose keys are its settings (what a study may vary): its own, and its
        data kind's where it has one (those go to the spec's data)."""
        return (self.name, self.data.block) if self.data.block else (self.name,)

    def better(self, metric: str) -> str:
        """'min' or 'max': which way `metric` is better for this task."""
        return self.metrics[metric]

    def fingerprint_facts(self) -> str:
        """What of the entry makes a run's numbers (its metrics: which final ones its summary holds; the
        rest is words, checks and figures)."""
        return repr((self.name, self.data.kind, self.model, self.loss, self.n_outputs, tuple(self.metrics), self.trajectory,
                     self.settings.__name__,
                     [(item.name, str(item.type)) for item in fields(self.settings)]))


def refuse_entries(problems: list[str]) -> None:
    """ConfigError listing what the registry's entries get wrong (nndl.config.tasks, nndl.report.kinds), if anything."""
    if problems:
        raise ConfigError("the task registry has errors:\n  " + "\n  ".join(problems))
