"""What several entries of the task registry share (nndl.tasks.registry): a classifier's gates,
defaults, final metrics, figures and tables, and where the book's executed notebooks are. No torch:
the workflow imports this where it is parsed."""

from __future__ import annotations

from nndl.settings import gate_bound
from nndl.tasks.types import Gate

# A classifier's gates, figures and tables: softmax regression's, and any classifier's after it.
CLASSIFIER_GATES = (
    Gate("train/loss", "train/loss", "<", "max_train_loss",
         gate_bound("Largest allowed final training loss (cross-entropy).", 0.5, exclusiveMinimum=0)),
    Gate("train/accuracy", "train/accuracy", ">", "min_train_accuracy",
         gate_bound("Smallest allowed final training accuracy, in [0, 1].", 0.7, minimum=0, maximum=1)),
    Gate("test/accuracy", "test/accuracy", ">", "min_test_accuracy",
         gate_bound("Smallest allowed final test accuracy, in [0, 1].", 0.7, minimum=0, maximum=1)))
# The book's settings for Fashion-MNIST's classifiers (d2l 3.6, 3.7, 4.2, 4.3).
CLASSIFIER_DEFAULTS = {"batch_size": 256, "learning_rate": 0.1, "epochs": 10, "init_std": 0.01}
CLASSIFIER_METRICS = {"final/test_accuracy": "max", "final/test_loss": "min", "final/train_loss": "min",
                      "final/train_accuracy": "max", "train_seconds": "min"}
CLASSIFIER_FIGURES = ("curves", "comparison", "predictions", "confusion")
CLASSIFIER_TABLES = ("classifier", "book", "per_class")
MINIBATCH_MEAN = "mean over the epoch's minibatches, as the notes' chart shows it"
# The book's executed notebooks (d2l-ai/d2l-pytorch-colab, the commits of the two editions): the
# numbers they print, else the last point of each curve of the training plot, read off against its
# labelled axis. 1.0.3 plots validation (test) accuracy and no training accuracy.
D2L_175 = "d2l-ai/d2l-pytorch-colab@32f0fdc, {notebook}.ipynb"
D2L_103 = "d2l-ai/d2l-pytorch-colab@f854371, {notebook}.ipynb"
