"""When a run trained, from its history: the start and end of its MLflow run (no MLflow import).

A run is handed to the store once it is complete (nndl.tracking.recording), so the store's own
clock would say when it was recorded; these say when it trained (the runs table's Created and
Duration), and a study's parent ends with its last run (nndl.tracking.studies).
"""

from __future__ import annotations


def trained_ms(history: dict) -> tuple[int | None, int | None]:
    """(start, end) of its training and evaluation in ms since the epoch; (None, None) for a history
    that does not say when it started."""
    start_ms = history.get("started_ms")
    if not start_ms:
        return None, None
    return start_ms, start_ms + round(1000 * (history["seconds"]["train"] + history["seconds"]["evaluate"]))
