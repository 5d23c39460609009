"""What a task is, as data: the types of the registry (nndl.tasks.registry) and of a task's settings.

No torch: the workflow imports this where it is parsed. A task's settings have no defaults here:
the config's schema fills them in (workflow/schemas/config.schema.yaml), once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from nndl.data.sources import SYNTHETIC  # where a task's data comes from: a kind of data set
from nndl.errors import ConfigError

# A task's loss family: squared, absolute or Huber loss on a number; or cross-entropy on classes.
REGRESSION, CLASSIFICATION = "regression", "classification"
# The families of chapter 3's predictions for a study (nndl.theory.choose): of least squares fitted
# by SGD (linear regression), and of a convex cross-entropy on a linear model (softmax regression).
LEAST_SQUARES, CONVEX_CROSS_ENTROPY = "least squares", "convex cross-entropy"
THEORIES = (LEAST_SQUARES, CONVEX_CROSS_ENTROPY)
IMPLS = ("scratch", "concise")  # from scratch (own model, loss, SGD on tensors); torch.nn and torch.optim


@dataclass(frozen=True)
class Hyperparameters:
    """What every task's settings block holds."""

    batch_size: int
    learning_rate: float
    epochs: int
    init_std: float  # the weights start ~ N(0, init_std); biases at 0
    init: str  # normal | zeros
    reduction: str  # mean | sum: how a minibatch's per-example losses make one update
    shuffle: bool  # a new order every epoch, or the stored one

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))


@dataclass(frozen=True)
class RegressionSettings(Hyperparameters):
    loss: str  # squared | absolute | huber
    huber_delta: float  # where Huber's loss turns from squared to absolute


@dataclass(frozen=True)
class ClassifierSettings(Hyperparameters):
    formula: str  # stable (max shift, from logits) | naive (the notes' exp(o) / sum exp(o))
    pixel_scale: float | str  # 1/255 (inputs in [0, 1], the notes) or a number


@dataclass(frozen=True)
class Gate:
    """One check on a run's result: `value` (a final epoch metric, or a parameter error of a
    regression) `relation` ('<' or '>') the bound under `bound` in the task's gates block."""

    label: str  # as the outcome says it: 'test/accuracy'
    value: str
    relation: str
    bound: str


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
    data: str  # SYNTHETIC | FASHION_MNIST
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
    baseline: str | None = None  # the task its report section sets it beside (its 'baseline' table)

    @property
    def classify(self) -> bool:
        return self.loss == CLASSIFICATION

    @property
    def setting_blocks(self) -> tuple[str, ...]:
        """The config blocks whose keys are its settings (what a study may vary): its own, and the
        synthetic data's for a task trained on it (those go to the spec's data)."""
        return (self.name, SYNTHETIC) if self.data == SYNTHETIC else (self.name,)

    def better(self, metric: str) -> str:
        """'min' or 'max': which way `metric` is better for this task."""
        return self.metrics[metric]

    def fingerprint_facts(self) -> str:
        """What of the entry makes a run's numbers (the rest is words, checks and figures)."""
        return repr((self.name, self.data, self.model, self.loss, self.n_outputs, self.settings.__name__,
                     [(item.name, str(item.type)) for item in fields(self.settings)]))


def refuse_entries(problems: list[str]) -> None:
    """ConfigError listing what the registry's entries get wrong (nndl.config.tasks, nndl.report.kinds), if anything."""
    if problems:
        raise ConfigError("the task registry has errors:\n  " + "\n  ".join(problems))
