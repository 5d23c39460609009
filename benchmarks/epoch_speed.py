"""Softmax regression on the full Fashion-MNIST four ways, each in a fresh process: the notes' data
path (torchvision, per-image ToTensor, a DataLoader with 4 workers), the project's scratch and
concise training, and a minimal in-memory loop as the floor.

    python -m benchmarks.epoch_speed [--quick] [--device cuda] [--epochs 10]

Targets: the project >= 25x faster per epoch than the notes' path with accuracy within 1 point;
the project within 1.5x of the floor; on a GPU, an epoch <= 0.1 s.
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import tempfile
from pathlib import Path

from benchmarks import common

TARGETS = {"speedup_vs_notes": 25.0, "accuracy_gap_points": 1.0, "ratio_to_floor": 1.5, "gpu_epoch_s": 0.1}


def _child(queue, variant: str, gz_folder: str, epochs: int, device: str, threads: int, scratch: str):
    import torch

    from benchmarks import notes_data_path, training_variants

    torch.set_num_threads(threads)
    if variant == "notes":
        result = notes_data_path.train(Path(gz_folder), Path(scratch), epochs)
    elif variant == "floor":
        result = training_variants.floor(Path(gz_folder), epochs, device)
    else:
        result = training_variants.project(variant, Path(gz_folder), epochs, device)
    usage = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    result["peak_rss_mb"] = round(max(usage) / 1024, 1)  # ru_maxrss is in KiB on Linux
    queue.put(result)


def run_variant(variant: str, gz_folder: Path, epochs: int, device: str, threads: int) -> dict:
    """One variant in a fresh process (spawned: its imports and memory are its own)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    with tempfile.TemporaryDirectory() as scratch:
        process = context.Process(target=_child, args=(queue, variant, str(gz_folder), epochs, device,
                                                       threads, scratch))
        process.start()
        result = queue.get()
        process.join()
    result["median_epoch_s"] = statistics.median(result["epoch_seconds"][1:] or result["epoch_seconds"])
    return result


def verdicts(rows: dict, device: str) -> list[dict]:
    project = max(rows["scratch"]["median_epoch_s"], rows["concise"]["median_epoch_s"])
    speedup = rows["notes"]["median_epoch_s"] / project
    gap = 100 * max(abs(rows[v]["test_accuracy"] - rows["notes"]["test_accuracy"]) for v in ("scratch", "concise"))
    over_floor = project / rows["floor"]["median_epoch_s"]
    found = [common.verdict("project >= 25x faster per epoch than the notes' path", speedup,
                            TARGETS["speedup_vs_notes"], speedup >= TARGETS["speedup_vs_notes"]),
             common.verdict("project's accuracy within 1 point of the notes' path (points)", gap,
                            TARGETS["accuracy_gap_points"], gap <= TARGETS["accuracy_gap_points"]),
             common.verdict("project within 1.5x of the floor per epoch", over_floor, TARGETS["ratio_to_floor"],
                            over_floor <= TARGETS["ratio_to_floor"])]
    if device.startswith("cuda"):
        found.append(common.verdict("GPU softmax epoch (s)", project, TARGETS["gpu_epoch_s"],
                                    project <= TARGETS["gpu_epoch_s"]))
    return found


def measure(options) -> dict:
    from benchmarks.project import dataset_folder

    gz_folder, rows = dataset_folder(), {}
    plan = [("notes", 3 if options.quick else options.epochs, "cpu"), ("scratch", options.epochs, options.device),
            ("concise", options.epochs, options.device), ("floor", options.epochs, options.device)]
    for variant, epochs, device in plan:
        common.say(f"  training: {variant} ({epochs} epochs on {device}) ...")
        rows[variant] = {**run_variant(variant, gz_folder, epochs, device, options.threads),
                         "epochs": epochs, "device": device}
        common.say(f"    median epoch {rows[variant]['median_epoch_s']:.3f} s, test accuracy "
                   f"{rows[variant]['test_accuracy']:.4f}, peak RSS {rows[variant]['peak_rss_mb']:.0f} MB")
    return {"variants": rows, "verdicts": verdicts(rows, options.device)}


if __name__ == "__main__":
    common.main("epoch_speed", measure, __doc__)
