"""The registry of tasks: one entry per task, everything that differs between tasks said once.

A task is added here (with its model's module under nndl.learn, and its block in the configs): its
settings, declared with their rules and defaults, and its gates' bounds are its config keys (the
schema's blocks are made from them: nndl.config.task_blocks); nothing else names a task. A kind of
data set a task trains on is registered here too (DATA_KINDS); what several entries share (a
classifier's gates, figures, tables) is in nndl.tasks.shared. No torch: the workflow imports this
where it is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass


from nndl.data.fashion_mnist import NUM_CLASSES
from nndl.data.sources import FashionData, SyntheticData, SyntheticSettings
from nndl.tasks.types import (CLASSIFICATION, CONVEX_CROSS_ENTROPY, LEAST_SQUARES, PENALIZED_LEAST_SQUARES, REGRESSION,
                              BookResult, ClassifierSettings, Gate, RegressionSettings, Task)
from nndl.settings import gate_bound, setting
from nndl.tasks.shared import (CLASSIFIER_DEFAULTS, CLASSIFIER_FIGURES, CLASSIFIER_GATES, CLASSIFIER_METRICS,
                               CLASSIFIER_TABLES, D2L_103, D2L_175, MINIBATCH_MEAN)

PARAM_ERROR = gate_bound("Largest allowed absolute error of any entry of w and of b.", 0.01, exclusiveMinimum=0)

LINREG = Task(
    name="linreg", heading="Linear regression",
    settings=RegressionSettings, data=SyntheticData, model="nndl.learn.linear", loss=REGRESSION, n_outputs=1,
    defaults={"batch_size": 10, "learning_rate": 0.03, "epochs": 3, "init_std": 0.01},
    gates=(Gate("max |w error|", "max_abs_w_error", "<", "max_param_error", PARAM_ERROR),
           Gate("|b error|", "abs_b_error", "<", "max_param_error", PARAM_ERROR)),
    metrics={"final/test_mse": "min", "final/max_abs_w_error": "min", "final/abs_b_error": "min",
             "final/train_loss": "min", "final/test_loss": "min", "train_seconds": "min"},
    epoch_test_metric="test/loss", seconds_per_example=2e-7, log_scale=True, trajectory=True,
    figures=("linreg_loss", "linreg_trajectory"), tables=("linreg_epochs", "linreg_errors", "book"),
    about="Data: y = Xw + b + noise, as in the notes. The scratch model uses the notes' squared loss with the 1/2 "
          "factor; the concise one `nn.MSELoss`, which has none, so its loss is twice as large at the same fit.",
    train_loss_kind="loss over the whole training set after each epoch, as the notes print it",
    theory=LEAST_SQUARES,
    # Printed: the last epoch's loss, and each entry's error (the largest |w error| of the two).
    book=(BookResult("scratch", "d2l 0.17.5", D2L_175.format(notebook="chapter_linear-networks/linear-regression-scratch"),
                     {"train/loss": 0.000049, "final/max_abs_w_error": 0.0005, "final/abs_b_error": 0.0003}),
          BookResult("concise", "d2l 0.17.5", D2L_175.format(notebook="chapter_linear-networks/linear-regression-concise"),
                     {"train/loss": 0.000093, "final/max_abs_w_error": 0.0004, "final/abs_b_error": 0.0003})),
)

SOFTMAX = Task(
    name="softmax", heading="Softmax regression",
    settings=ClassifierSettings, data=FashionData, model="nndl.learn.linear", loss=CLASSIFICATION,
    n_outputs=NUM_CLASSES, gates=CLASSIFIER_GATES, metrics=CLASSIFIER_METRICS, epoch_test_metric="test/accuracy",
    defaults=CLASSIFIER_DEFAULTS, seconds_per_example=1e-5, figures=CLASSIFIER_FIGURES, tables=CLASSIFIER_TABLES,
    about="One linear layer, 784 pixels to 10 classes, and the softmax: the notes' model. The training loss is the "
          "mean over each epoch's minibatches, as in the notes.",
    train_loss_kind=MINIBATCH_MEAN, theory=CONVEX_CROSS_ENTROPY,
    book=(BookResult("scratch", "d2l 0.17.5", D2L_175.format(notebook="chapter_linear-networks/softmax-regression-scratch"),
                     {"train/loss": 0.4475, "train/accuracy": 0.8483, "test/accuracy": 0.8279}),
          BookResult("concise", "d2l 0.17.5", D2L_175.format(notebook="chapter_linear-networks/softmax-regression-concise"),
                     {"train/loss": 0.4471, "train/accuracy": 0.8481, "test/accuracy": 0.8290}),
          BookResult("scratch", "d2l 1.0.3", D2L_103.format(notebook="chapter_linear-classification/softmax-regression-scratch"),
                     {"test/accuracy": 0.8301}),
          BookResult("concise", "d2l 1.0.3", D2L_103.format(notebook="chapter_linear-classification/softmax-regression-concise"),
                     {"test/accuracy": 0.8354})),
)



@dataclass(frozen=True)
class MLPSettings(ClassifierSettings):
    num_hiddens: int = setting("Units of the hidden layer (ReLU), d2l 4.2's 256.", minimum=1, default=256)
    num_hiddens2: int = setting("Units of a second hidden layer (ReLU) after the first; 0 for none (d2l 4.2's "
                                "exercise).", minimum=0, default=0)


MLP = Task(
    name="mlp", heading="Multilayer perceptron",
    settings=MLPSettings, data=FashionData, model="nndl.learn.mlp", loss=CLASSIFICATION, n_outputs=NUM_CLASSES,
    # An example costs 1.35e-5 s (a 10-epoch run took 9.6 s against softmax regression's 7.6 s on 2 cores).
    gates=CLASSIFIER_GATES, metrics=CLASSIFIER_METRICS, epoch_test_metric="test/accuracy", seconds_per_example=1.35e-5,
    defaults=CLASSIFIER_DEFAULTS,
    figures=CLASSIFIER_FIGURES, tables=("classifier", "baseline", "book", "per_class"), baseline="softmax",
    about="The next chapter's model (d2l 4.2, 4.3): a hidden layer of ReLU units (`num_hiddens`, the book's 256) "
          "between the pixels and softmax regression's output layer, trained with the same cross-entropy, SGD, "
          "batches and epochs. The hidden layer lets the class scores bend: a linear model can only weigh each pixel "
          "once, the perceptron first builds features from them. Beside softmax regression below: what that buys, "
          "and what it costs.",
    train_loss_kind=MINIBATCH_MEAN, theory=None,
    no_theory="chapter 3's theory makes no prediction for a multilayer perceptron: its loss is not convex in its "
              "weights (a hidden ReLU layer), so neither the convex rates nor the limits derived for linear and "
              "softmax regression apply; the answer is the measurement alone",
    book=(BookResult("scratch", "d2l 0.17.5", D2L_175.format(notebook="chapter_multilayer-perceptrons/mlp-scratch"),
                     {"train/loss": 0.3836, "train/accuracy": 0.8641, "test/accuracy": 0.8372}),
          BookResult("concise", "d2l 0.17.5", D2L_175.format(notebook="chapter_multilayer-perceptrons/mlp-concise"),
                     {"train/loss": 0.3811, "train/accuracy": 0.8652, "test/accuracy": 0.8284}),
          BookResult("scratch", "d2l 1.0.3", D2L_103.format(notebook="chapter_multilayer-perceptrons/mlp-implementation"),
                     {"test/accuracy": 0.8333}),
          BookResult("concise", "d2l 1.0.3", D2L_103.format(notebook="chapter_multilayer-perceptrons/mlp-implementation"),
                     {"test/accuracy": 0.8446})),
)



@dataclass(frozen=True)
class DropoutSettings(ClassifierSettings):
    num_hiddens1: int = setting("Units of the first hidden layer (ReLU), d2l 4.6's 256.", minimum=1, default=256)
    num_hiddens2: int = setting("Units of the second hidden layer (ReLU), d2l 4.6's 256.", minimum=1, default=256)
    dropout1: float = setting("Probability that a unit of the first hidden layer is zeroed in training (off in "
                              "evaluation), d2l 4.6's 0.2.", minimum=0, exclusiveMaximum=1, default=0.2)
    dropout2: float = setting("Probability that a unit of the second hidden layer is zeroed in training, d2l 4.6's "
                              "0.5.", minimum=0, exclusiveMaximum=1, default=0.5)
    weight_decay: float = setting("L2 penalty on the weights, weight_decay / 2 * ||W||^2 (biases left out); 0: none, "
                                  "as in d2l 4.6.", minimum=0, default=0.0)


DROPOUT = Task(
    name="dropout", heading="Dropout",
    settings=DropoutSettings, data=FashionData, model="nndl.learn.dropout", loss=CLASSIFICATION,
    n_outputs=NUM_CLASSES, gates=CLASSIFIER_GATES, metrics={**CLASSIFIER_METRICS, "final/weight_norm": "min"},
    epoch_test_metric="test/accuracy",
    # An example costs about 1.6 times the perceptron's: a second 256-unit layer and two masks.
    seconds_per_example=2.2e-5, defaults={**CLASSIFIER_DEFAULTS, "learning_rate": 0.5},
    figures=CLASSIFIER_FIGURES, tables=("classifier", "baseline", "book", "per_class"), baseline="mlp",
    about="d2l 4.6: a perceptron with two hidden layers of 256 ReLU units whose units are zeroed at random while it "
          "trains, each of the first layer's with probability `dropout1` (0.2), each of the second's with `dropout2` "
          "(0.5), the survivors scaled up to keep their expected value; evaluation sees every unit. No unit can lean "
          "on another always being there, which is the book's reading of why it generalizes. Trained with the "
          "book's learning rate 0.5; beside the one-hidden-layer perceptron below.",
    train_loss_kind=MINIBATCH_MEAN + ", with dropout on (evaluation's loss, without it, is lower)", theory=None,
    no_theory="chapter 3's theory makes no prediction for dropout: its network's loss is not convex in its weights "
              "and its gradient is a random draw of the masks as well as of the minibatch, so neither the convex "
              "rates nor the limits derived for linear and softmax regression apply; the answer is the measurement "
              "alone",
    comparison_note="they start from the same weights and see the same minibatches, but each draws its own dropout masks "
          "(the scratch model's uniform draws, nn.Dropout's), so their curves differ by the masks' luck",
    book=(BookResult("scratch", "d2l 0.17.5", D2L_175.format(notebook="chapter_multilayer-perceptrons/dropout"),
                     {"train/loss": 0.3350, "train/accuracy": 0.8762, "test/accuracy": 0.8360}),
          BookResult("concise", "d2l 0.17.5", D2L_175.format(notebook="chapter_multilayer-perceptrons/dropout"),
                     {"train/loss": 0.3607, "train/accuracy": 0.8681, "test/accuracy": 0.8453})),
)

@dataclass(frozen=True)
class PolynomialSettings(SyntheticSettings):
    degree: int = setting("The fitted polynomial's degree: the inputs are x^i / i! for i = 1 .. degree of one x ~ "
                          "N(0, 1), the bias its constant term; d2l 4.4's 4 features are degree 3, its 2 (underfitting) "
                          "degree 1, its 20 (overfitting) degree 19.", minimum=1, default=3)


class PolynomialData(SyntheticData):
    """d2l 4.4's data: y = 5 + 1.2 x - 3.4 x^2 / 2! + 5.6 x^3 / 3! + noise (0.1), 100 training and 100
    test examples, the inputs a polynomial's features of x up to the fit's `degree`."""

    kind = block = "polynomial"
    settings_type = PolynomialSettings
    defaults = {"true_w": [1.2, -3.4, 5.6], "true_b": 5.0, "n_train": 100, "n_test": 100, "noise_std": 0.1}

    def input_shape(self) -> tuple[int, ...]:
        return (self.settings.degree,)


MODEL_SELECTION = Task(
    name="model_selection", heading="Model selection",
    settings=RegressionSettings, data=PolynomialData, model="nndl.learn.linear", loss=REGRESSION, n_outputs=1,
    defaults={"batch_size": 10, "learning_rate": 0.01, "epochs": 400, "init_std": 0.01},
    gates=(Gate("test/loss", "test/loss", "<", "max_test_loss",
                gate_bound("Largest allowed final test loss (the noise's variance is 0.01; a line, underfitting, ends "
                           "above 10).", 0.5, exclusiveMinimum=0)),),
    metrics={"final/test_loss": "min", "final/train_loss": "min", "final/test_mse": "min",
             "final/max_abs_w_error": "min", "final/abs_b_error": "min", "final/weight_norm": "min",
             "train_seconds": "min"},
    epoch_test_metric="test/loss", seconds_per_example=2e-7, log_scale=True,
    figures=("regression_losses",), tables=("regression_final", "weights", "book"),
    about="d2l 4.4, model selection: a cubic, y = 5 + 1.2 x - 3.4 x^2 / 2! + 5.6 x^3 / 3! plus noise, fitted by "
          "linear regression on the polynomial's features x^i / i! of one input x (the bias is the constant "
          "term). The default fits the true degree, 3 (the book's 4 features): the concise run, on nn.MSELoss as "
          "the book's, recovers the coefficients; the scratch one, whose loss has the 1/2 and so steps half as far, "
          "is still on its way after 400 epochs, where the studies' theory puts it. The "
          "book's other two fits, degree 1 (a line: underfitting, both losses high) and degree 19 (20 features "
          "for 100 examples: overfitting, the training loss below the test loss), are studies.",
    train_loss_kind="loss over the whole training set after each epoch, as the book plots it",
    theory=LEAST_SQUARES,  # on the polynomial's features: the closed forms hold whatever the inputs
    book=(BookResult("concise", "d2l 0.17.5", D2L_175.format(notebook="chapter_multilayer-perceptrons/underfit-overfit"),
                     {"learned/b": 4.9471, "learned/w1": 1.3745, "learned/w2": -3.2940, "learned/w3": 5.0603}),),
)


class HighDimensionalData(SyntheticData):
    """d2l 4.5's data: y = Xw + b + noise, made as the linear data is, with 200 inputs and only 20
    training examples (w = 0.01 each, b = 0.05): more weights than examples, where a model overfits."""

    kind = block = "high_dimensional"
    defaults = {"true_w": [0.01] * 200, "true_b": 0.05, "n_train": 20, "n_test": 100, "noise_std": 0.01}


@dataclass(frozen=True)
class WeightDecaySettings(RegressionSettings):
    weight_decay: float = setting("lambda: the penalty lambda / 2 * ||w||^2 added to the loss, the bias not decayed; "
                                  "d2l 4.5's 3 (0: none, the book's other run).", minimum=0, default=3.0)


WEIGHT_DECAY = Task(
    name="weight_decay", heading="Weight decay",
    settings=WeightDecaySettings, data=HighDimensionalData, model="nndl.learn.weight_decay", loss=REGRESSION,
    n_outputs=1, defaults={"batch_size": 5, "learning_rate": 0.003, "epochs": 100, "init_std": 1.0},
    gates=(Gate("test/loss", "test/loss", "<", "max_test_loss",
                gate_bound("Largest allowed final test loss (without weight decay about 80 with the 1/2 from "
                           "scratch, 160 as nn.MSELoss).", 1.0,
                           exclusiveMinimum=0)),),
    metrics={"final/weight_norm": "min", "final/test_loss": "min", "final/train_loss": "min",
             "final/test_mse": "min", "train_seconds": "min"},
    epoch_test_metric="test/loss", seconds_per_example=2e-7, log_scale=True,
    figures=("regression_losses",), tables=("regression_final", "book"),
    about="d2l 4.5: linear regression with 200 inputs and only 20 training examples, whose weights start far from "
          "the truth (w ~ N(0, 1) against 0.01 each), trained on the squared loss plus `weight_decay` / 2 times "
          "||w||^2. Without the penalty the weights keep every direction the 20 examples do not see as it started "
          "(||w|| stays near 13 and the test loss near 80, the book's other run: a study); with the book's 3 "
          "they shrink towards 0 and the test loss follows the training loss. Both implementations start from "
          "the same weights and a bias of 0 (the book's concise one draws its bias too).",
    train_loss_kind="loss over the whole training set after each epoch, without the penalty, as the book plots it",
    theory=PENALIZED_LEAST_SQUARES,
    book=(BookResult("scratch", "d2l 0.17.5", D2L_175.format(notebook="chapter_multilayer-perceptrons/weight-decay"),
                     {"final/weight_norm": 0.3496}),
          BookResult("concise", "d2l 0.17.5", D2L_175.format(notebook="chapter_multilayer-perceptrons/weight-decay"),
                     {"final/weight_norm": 0.4402})),
)

# In the book's order: a section's report follows those it builds on.
TASKS = {task.name: task for task in (LINREG, SOFTMAX, MLP, MODEL_SELECTION, WEIGHT_DECAY, DROPOUT)}
# The kinds of data set, by name: each its spec's class (nndl.data.sources.DataSpec), one entry per kind.
DATA_KINDS = {kind.kind: kind for kind in (SyntheticData, FashionData, PolynomialData, HighDimensionalData)}


def task_named(name: str) -> Task:
    """The registry's entry for `name`; an unknown name is a KeyError that lists the known ones."""
    if name not in TASKS:
        raise KeyError(f"no task {name!r}: the tasks are {', '.join(TASKS)} (nndl.tasks.registry)")
    return TASKS[name]
