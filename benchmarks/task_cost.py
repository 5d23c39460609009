"""Each task's cost per example, measured against the one its registry entry declares
(`seconds_per_example`, which cuts the runs into chunks: nndl.runs.chunks.estimated_seconds).

    python -m benchmarks.task_cost [--quick] [--threads 1]

For every task of the registry, its default runs of seed 0 (scratch and concise, the default
config's settings, the full data: Fashion-MNIST, or the synthetic set made here) train in this
process with the pipeline's own code, after a warm-up, `--threads` threads. Target: the estimate
of an epoch (its minibatch steps at 0.5 ms, its examples at the declared cost) within 2x of the
slower implementation's median epoch (a chunk of 60 s estimated takes 30 to 120 s). Each run's cost
per example, its median epoch less the steps' share over its examples, is printed: a new task's
entry takes its `seconds_per_example` from it.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from dataclasses import replace

import yaml

from benchmarks import common

TARGETS = {"declared_within": 2.0}


def default_runs(epochs: int | None) -> list:
    """The default config's runs of seed 0, each task's, on the full data (made where needed)."""
    from nndl.config.validate import validate
    from nndl.data import sources, synthetic
    from nndl.data.sources import FashionData
    from nndl.runs import specs
    from nndl.runs.plan import resolve_runs
    from benchmarks.project import dataset_folder

    folder = dataset_folder()
    fashion = FashionData(str(folder), str(folder / "manifest.json"), None)
    raw = yaml.safe_load((common.ROOT / "config" / "config.yaml").read_text()) | {"seeds": [0], "studies": []}
    runs = resolve_runs(validate(raw, common.SCHEMA))
    for digest, block in specs.synthetic_datasets(runs).items():  # into the working folder (a temporary one)
        synthetic.save_dataset(synthetic.dataset_from(block), sources.SYNTHETIC_DATA.format(digest=digest),
                               sources.SYNTHETIC_DESCRIPTION.format(digest=digest), block)
    found = [replace(spec, data=fashion) if isinstance(spec.data, FashionData) else spec for spec in runs]
    return [spec.with_settings(epochs=epochs) if epochs else spec for spec in found]


def measure(options) -> dict:
    import torch

    from nndl.data.tensors import DataSets
    from nndl.learn.run import train_and_evaluate
    from nndl.learn.warmup import warm_up
    from nndl.runs.chunks import estimated_seconds

    torch.set_num_threads(options.threads)
    device, rows = torch.device("cpu"), {}
    with tempfile.TemporaryDirectory() as scratch, open(os.devnull, "w") as quiet:
        here = os.getcwd()
        os.chdir(scratch)
        try:
            datasets = DataSets(device, quiet)
            for spec in default_runs(2 if options.quick else None):
                data = datasets.load(spec.data, spec.input_scale)
                warm_up(spec, data, device)
                history = train_and_evaluate(spec, data, device).history
                epoch = statistics.median([row["epoch_seconds"] for row in history["epochs"]][1:]
                                          or [row["epoch_seconds"] for row in history["epochs"]])
                examples, task = len(data.train), spec.definition
                # The chunks' own estimate of one epoch (its run's fixed cost left out), and its steps' share.
                estimate = (estimated_seconds(task, spec.settings.batch_size, 1, examples)
                            - estimated_seconds(task, spec.settings.batch_size, 0, examples))
                measured = max(epoch - (estimate - examples * task.seconds_per_example), 0.0) / examples
                rows[f"{spec.task}-{spec.impl}"] = {"task": spec.task, "median_epoch_s": epoch, "estimated_epoch_s":
                                                    estimate, "measured_s_per_example": measured}
                common.say(f"  {spec.task}-{spec.impl}: median epoch {epoch:.3f} s over {examples} examples: "
                           f"{measured:.3g} s an example (declared {spec.definition.seconds_per_example:.3g})")
        finally:
            os.chdir(here)
    return {"runs": rows, "verdicts": verdicts(rows)}


def verdicts(rows: dict) -> list[dict]:
    from nndl.tasks.registry import TASKS

    found = []
    for name, task in TASKS.items():
        slower = max((row for row in rows.values() if row["task"] == name), key=lambda row: row["median_epoch_s"])
        measured, estimated = slower["median_epoch_s"], slower["estimated_epoch_s"]
        # Either way: an estimate too high cuts too many chunks, too low too few.
        off = max(measured, estimated) / min(measured, estimated)
        found.append(common.verdict(f"{name}: an epoch's estimate within 2x of its measured time", off,
                                    TARGETS["declared_within"], off <= TARGETS["declared_within"],
                                    estimated_epoch_s=estimated, measured_epoch_s=measured,
                                    declared_s_per_example=task.seconds_per_example,
                                    measured_s_per_example=slower["measured_s_per_example"]))
    return found


if __name__ == "__main__":
    common.main("task_cost", measure, __doc__)
