"""Python's collector in the project's short processes (a Snakemake run, each of its jobs): what
they import lives until they end, so it is frozen out of the collector's reach.

A chunk job imports torch, its compiler and MLflow: about 550,000 objects. Python's full collection
walked them all 8 times during those imports (about 1 s) and once more at the interpreter's exit
(about 1.2 s). Side by side on the small config's softmax and MLP (`snakemake --cores 1
results/tracking/runs.json`, 2026-12-07): chunk jobs 7.2-8.2 -> 4.9-5.4 s, the whole run 19.4-21.6
-> 13.9-14.3 s; Snakemake's own dry run of the small config 1.29-1.30 -> 1.06-1.10 s.

Frozen objects are never collected: cycles left when a process freezes its heap for the last time
go to the OS with it, their finalizers not run. Nothing a job writes may depend on one (files are
closed where they are written; MLflow, logging and temporary folders clean up at atexit).
"""

from __future__ import annotations

import gc

DEFAULT_THRESHOLDS = gc.get_threshold()
# While a process loads what it keeps (its imports, data, first calls), a full collection comes
# after this many collections of the middle generation (Python's default: 10).
FULL_COLLECTION_EVERY_WHILE_LOADING = 100


def loading() -> None:
    """The process is about to import and load what it keeps to its end: full collections rarer."""
    young, middle, _ = DEFAULT_THRESHOLDS
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY_WHILE_LOADING)


def loaded() -> None:
    """What the process holds now stays until it ends: frozen, and the default collections again
    for what it makes from here (a study chunk's hundred runs)."""
    gc.freeze()
    gc.set_threshold(*DEFAULT_THRESHOLDS)
