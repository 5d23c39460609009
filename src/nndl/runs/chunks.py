"""Chunks: the runs one job trains in one process, cut by estimated work against a budget.

A group (a task's default runs, or one study) gets one chunk per `budget` seconds of estimated
work, never more chunks than runs. The budget is a config key (`chunk_seconds`), so the chunks, and
with them every output name, depend on the config alone: never on the cores, the jobs or the host.
A chunk holds one group's runs, so editing one task's hyperparameters or one study reruns only that
group's chunks.
"""

from __future__ import annotations

import math

from nndl.learn.tasks import TASKS
from nndl.runs import names


def group_of(spec: dict) -> str:
    """The chunk group of a run: its task for the default runs, 'study-<name>' for a study's."""
    if "study" in spec:
        return names.CHUNK_GROUP_STUDY.format(study=spec["study"]["name"])
    return spec["task"]


def estimated_seconds(spec: dict) -> float:
    """A rough cost of one run on one CPU core: steps and examples seen. Measured on a 2-core EPYC
    VM: about 0.5 ms per minibatch step, 10 us per Fashion-MNIST example (784 x 10 weights, forward
    and backward), next to nothing per 2-d synthetic example, and about 0.3 s per run for MLflow
    and files."""
    if spec["task"] == "linreg":
        examples, per_example = spec["data"]["n_train"], 2e-7
    else:
        generated = spec["data"]["generate"]
        examples, per_example = (generated["train"] if generated else 60_000), 1e-5
    steps = math.ceil(examples / spec["batch_size"])
    return 0.3 + spec["epochs"] * (steps * 5e-4 + examples * per_example)


def _groups(specs: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for spec in specs:
        groups.setdefault(group_of(spec), []).append(spec)
    return groups


def chunk_ids(specs: list[dict], budget: float) -> list[dict]:
    """[{'group': 'softmax', 'part': 0, 'parts': 2}, ...]: the wildcards of every chunk job."""
    chunks = []
    for group, runs in _groups(specs).items():
        parts = max(1, min(len(runs), math.ceil(sum(map(estimated_seconds, runs)) / budget)))
        chunks.extend({"group": group, "part": part, "parts": parts} for part in range(parts))
    return chunks


def chunk_members(specs: list[dict], group: str, part: int, parts: int) -> list[dict]:
    """The runs of chunk `part` of `parts` of `group`. The default runs: a contiguous slice in seed
    order, so each seed's figures can start once the chunks holding its runs are done. A study's
    runs: shared by estimated cost, longest first to the least loaded chunk, in grid order within
    a chunk."""
    runs = _groups(specs).get(group, [])
    members = _split(group, runs, parts)[part] if part < parts else []
    if not members:
        raise ValueError(f"chunk {group}-{part}-of-{parts} holds no runs: the config has {len(runs)} run(s) "
                         f"in {group!r}; ask for the pipeline's own targets (snakemake -n lists them)")
    return members


def members_by_chunk(specs: list[dict], chunks: list[dict]) -> list[tuple[dict, list[dict]]]:
    """[(chunk, its runs)] for every chunk of `chunks` (chunk_ids), grouping and cutting each group
    once (chunk_members, called per chunk, regroups every run each time)."""
    groups, cut = _groups(specs), {}
    found = []
    for chunk in chunks:
        key = (chunk["group"], chunk["parts"])
        if key not in cut:
            cut[key] = _split(chunk["group"], groups.get(chunk["group"], []), chunk["parts"])
        found.append((chunk, cut[key][chunk["part"]]))
    return found


def _split(group: str, runs: list[dict], parts: int) -> list[list[dict]]:
    """`runs` of `group` cut into `parts` chunks (see chunk_members)."""
    if group in TASKS:
        return [runs[part * len(runs) // parts:(part + 1) * len(runs) // parts] for part in range(parts)]
    loads, owner = [0.0] * parts, {}
    for index in sorted(range(len(runs)), key=lambda i: (-estimated_seconds(runs[i]), i)):
        lightest = loads.index(min(loads))
        owner[index] = lightest
        loads[lightest] += estimated_seconds(runs[index])
    return [[spec for index, spec in enumerate(runs) if owner[index] == part] for part in range(parts)]


def chunks_of_runs(chunks: list[dict], specs: list[dict], wanted: list[dict]) -> list[dict]:
    """The chunks that train any of the runs `wanted`, in chunk order."""
    names_wanted = {spec["name"] for spec in wanted}
    return [chunk for chunk in chunks
            if any(spec["name"] in names_wanted for spec in chunk_members(specs, **chunk))]
