"""nndl: the linear neural networks chapter of Dive into Deep Learning as a reproducible pipeline.

Importing the package is cheap on purpose: heavy libraries (torch, mlflow, matplotlib) are imported
by the modules that use them, so a Snakemake job pays only for what it runs.
"""

__version__ = "0.1.0"
