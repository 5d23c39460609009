"""Chunks: the runs one job trains in one process, cut by estimated work against a budget.

A group (a task's default runs, or one study) gets one chunk per `budget` seconds of estimated
work, never more chunks than runs. The budget is a config key (`chunk_seconds`), so the chunks, and
with them every output name, depend on the config alone: never on the cores, the jobs or the host.
A chunk holds one group's runs, so editing one task's hyperparameters or one study reruns only that
group's chunks.
"""

from __future__ import annotations

import heapq
import math

from nndl.runs import names
from nndl.tasks.runspec import RunSpec
from nndl.tasks.registry import TASKS
from nndl.tasks.types import Task


def group_of(spec: RunSpec) -> str:
    """The chunk group of a run: its task for the default runs, 'study-<name>' for a study's."""
    if spec.study:
        return names.CHUNK_GROUP_STUDY.format(study=spec.study.name)
    return spec.task


def estimated_seconds(task: Task, batch_size: int, epochs: int, examples: int) -> float:
    """A rough cost of one run on one CPU core: steps and examples seen. Measured on a 2-core EPYC
    VM: about 0.5 ms per minibatch step, the task's cost per example (forward and backward: 10 us
    for softmax regression's 784 x 10 weights, next to nothing per 2-d synthetic example), and
    about 0.3 s per run for MLflow and files."""
    steps = math.ceil(examples / batch_size)
    return 0.3 + epochs * (steps * 5e-4 + examples * task.seconds_per_example)


def spec_seconds(spec: RunSpec) -> float:
    """estimated_seconds of one run."""
    return estimated_seconds(spec.definition, spec.settings.batch_size, spec.settings.epochs,
                             spec.data.train_examples())


def _groups(specs: list[RunSpec]) -> dict[str, list[RunSpec]]:
    groups: dict[str, list[RunSpec]] = {}
    for spec in specs:
        groups.setdefault(group_of(spec), []).append(spec)
    return groups


def chunk_ids(specs: list[RunSpec], budget: float) -> list[dict]:
    """[{'group': 'softmax', 'part': 0, 'parts': 2}, ...]: the wildcards of every chunk job."""
    chunks = []
    for group, runs in _groups(specs).items():
        parts = max(1, min(len(runs), math.ceil(sum(map(spec_seconds, runs)) / budget)))
        chunks.extend({"group": group, "part": part, "parts": parts} for part in range(parts))
    return chunks


def chunk_members(specs: list[RunSpec], group: str, part: int, parts: int) -> list[RunSpec]:
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


def members_by_chunk(specs: list[RunSpec], chunks: list[dict]) -> list[tuple[dict, list[RunSpec]]]:
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


def _split(group: str, runs: list[RunSpec], parts: int) -> list[list[RunSpec]]:
    """`runs` of `group` cut into `parts` chunks (see chunk_members)."""
    if group in TASKS:
        return [runs[part * len(runs) // parts:(part + 1) * len(runs) // parts] for part in range(parts)]
    costs = [spec_seconds(spec) for spec in runs]
    loads, owner = [(0.0, part) for part in range(parts)], [0] * len(runs)  # a heap of (load, chunk)
    for index in sorted(range(len(runs)), key=lambda i: (-costs[i], i)):
        load, lightest = heapq.heappop(loads)  # the least loaded chunk, the first of equals
        owner[index] = lightest
        heapq.heappush(loads, (load + costs[index], lightest))
    cut: list[list[RunSpec]] = [[] for _ in range(parts)]
    for index, spec in enumerate(runs):  # grid order within a chunk
        cut[owner[index]].append(spec)
    return cut


class ChunkPlan:
    """Every chunk's runs, grouped and cut once where the workflow is parsed: the rules ask for a
    chunk's runs, and for the chunks that train some runs, many times each (chunk_members, called
    per request, regroups every run each time)."""

    def __init__(self, specs: list[RunSpec], chunks: list[dict]):
        self.pairs = members_by_chunk(specs, chunks)
        self.members = {(chunk["group"], chunk["part"], chunk["parts"]): runs for chunk, runs in self.pairs}
        self.groups = _groups(specs)
        self.position = {spec.name: position for position, (_, runs) in enumerate(self.pairs) for spec in runs}

    def runs_of(self, group: str, part: int, parts: int) -> list[RunSpec]:
        """The runs of chunk `part` of `parts` of `group` (as chunk_members says them, also for a
        chunk asked for by name that the budget would cut otherwise)."""
        key = (group, part, parts)
        if key not in self.members and part < parts:
            self.members[key] = _split(group, self.groups.get(group, []), parts)[part]
        if not self.members.get(key):
            raise ValueError(f"chunk {group}-{part}-of-{parts} holds no runs: the config has "
                             f"{len(self.groups.get(group, []))} run(s) in {group!r}; ask for the pipeline's own "
                             "targets (snakemake -n lists them)")
        return self.members[key]

    def chunks_of(self, wanted: list[RunSpec]) -> list[dict]:
        """The chunks that train any of the runs `wanted`, in chunk order."""
        return [self.pairs[position][0] for position in sorted({self.position[spec.name] for spec in wanted})]
