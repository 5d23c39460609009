"""Whether every task of the registry is whole, checked where the config is validated (before any
job): its data kind is known, its model module exists, its settings and gate bounds are declared
as config keys (each with its rule and default: nndl.config.task_blocks makes its schema blocks
from them), its metrics say which way is better, its book numbers name its implementations and metrics, its baseline is a task, and its theory is one or says why not (its
figure and table kinds: nndl.report.kinds, where the workflow is parsed). An entry missing a piece
fails with the task, the piece and the fix, never in training or in the report.

No torch: the workflow imports this where it is parsed (the model module is found, not imported).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from dataclasses import fields

from nndl.tasks import registry
from nndl.tasks.finals import is_learned, known_metrics, unknown_metrics
from nndl.data.sources import DataSpec
from nndl.tasks.types import IMPLS, THEORIES, Task


def epoch_metrics(task: Task) -> set[str]:
    """The metrics every epoch's record of the task holds (nndl.learn.loop)."""
    return {"train/loss", "test/loss"} | ({"train/accuracy", "test/accuracy"} if task.classify else set())


def book_metric(task: Task, metric: str) -> bool:
    """Whether a run of `task` has `metric` to set beside the book's (nndl.tasks.finals.book_value):
    an epoch's metric, a final one it declares, or a regression's learned parameter."""
    return metric in epoch_metrics(task) or metric in task.metrics or (not task.classify and is_learned(metric))


def declaration_problems(task: Task, schema: dict, where: str) -> list[str]:
    """Its settings and gates as config keys (nndl.config.task_blocks): every settings field
    declared with its rule (`setting`) and a default, from the field or the entry's `defaults`;
    defaults only for its keys; gates that share a bound declare it alike; its name no config key
    of the schema file `schema` (read from `where`)."""
    found, keys = [], [item.name for item in fields(task.settings)]
    if task.name in schema.get("properties", {}) or task.name in {kind.block for kind in registry.DATA_KINDS.values()}:
        found.append(f"its name is a config key already ({where}, or a data kind's block): name the task otherwise")
    if undeclared := [item.name for item in fields(task.settings) if "rule" not in item.metadata]:
        found.append(f"settings {', '.join(undeclared)} of {task.settings.__name__} are not declared with "
                     "nndl.settings.setting(description, ...): the config's schema is made from it")
    if missing := [item.name for item in fields(task.settings)
                   if "default" not in item.metadata.get("rule", {}) and item.name not in task.defaults]:
        found.append(f"no default for {', '.join(missing)}: give it in the entry's `defaults` (the book's value)")
    if unknown := sorted(set(task.defaults) - set(keys)):
        found.append(f"defaults for {', '.join(unknown)}, not settings of {task.settings.__name__} ({', '.join(keys)})")
    bounds: dict[str, dict] = {}
    for gate in task.gates:
        if bounds.setdefault(gate.bound, gate.rule) != gate.rule or "default" not in gate.rule:
            found.append(f"gate bound {gate.bound!r}: declare it once, with its default (nndl.settings.gate_bound)")
    return found


def entry_problems(task: Task, tasks: dict[str, Task]) -> list[str]:
    """Its data kind, model module, metrics, cost, book numbers, baseline and theory."""
    found, logged = [], ", ".join(sorted(epoch_metrics(task)))
    if task.data not in registry.DATA_KINDS.values():
        found.append(f"data {getattr(task.data, 'kind', task.data)!r} is not a kind of data set in "
                     f"{registry.__name__}.DATA_KINDS ({', '.join(registry.DATA_KINDS)})")
    if importlib.util.find_spec(task.model) is None:
        found.append(f"model module {task.model!r} is not found: write it (the interface: nndl.learn.learners) or "
                     f"fix the entry's `model` in {registry.__name__}")
    if unknown := unknown_metrics(task):
        found.append(f"metrics {', '.join(unknown)} are measured by nothing for a {task.loss}: the known are "
                     f"{', '.join(known_metrics(task))} (nndl.tasks.finals)")
    if not task.metrics or any(better not in ("min", "max") for better in task.metrics.values()):
        found.append("metrics: each final metric says 'min' or 'max' (which is better), and there is one at least")
    if task.epoch_test_metric not in epoch_metrics(task):
        found.append(f"epoch_test_metric {task.epoch_test_metric!r} is not an epoch's metric ({logged})")
    if task.seconds_per_example <= 0:
        found.append("seconds_per_example must be the measured cost of one example (> 0): chunks are cut by it")
    for result in task.book:
        unknown = [metric for metric in result.metrics if not book_metric(task, metric)]
        if result.impl not in IMPLS or unknown:
            found.append(f"book result of {result.edition}: " + "; ".join(filter(None, [
                result.impl not in IMPLS and f"impl {result.impl!r} is not one of {', '.join(IMPLS)}",
                unknown and f"metrics {', '.join(unknown)} are neither an epoch's ({logged}) nor a final one it "
                            f"declares{' nor a learned parameter (learned/b, learned/w1, ...)' if not task.classify else ''}"])))
    if task.baseline is not None and task.baseline not in tasks:
        found.append(f"baseline {task.baseline!r} is not a task ({', '.join(tasks)})")
    if task.theory is not None and task.theory not in THEORIES:
        found.append(f"theory {task.theory!r} is not one of {', '.join(THEORIES)} (or None, with `no_theory`)")
    if task.theory is None and not task.no_theory:
        found.append("no theory and no `no_theory`: say why chapter 3's predictions do not apply to it")
    return found


def task_problems(task: Task, schema: dict, where: str, tasks: dict[str, Task]) -> list[str]:
    """What `task`'s entry lacks or gets wrong (against the schema file's `schema`, read from
    `where`), each said with the fix; [] when it is whole."""
    return [f"task {task.name!r}: {text}" for text in declaration_problems(task, schema, where)
            + entry_problems(task, tasks)]


def defined(dotted: str) -> bool:
    """Whether the module of `dotted` (module.function) exists and defines the function at its top
    level: read, not imported (a data kind's loader imports torch)."""
    module, _, name = dotted.rpartition(".")
    try:
        found = importlib.util.find_spec(module) if module else None
    except ModuleNotFoundError:  # a package on its path is missing
        found = None
    if found is None or not found.origin:
        return False
    tree = ast.parse(Path(found.origin).read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)


def data_kind_problems(schema: dict, where: str, kinds: dict[str, type[DataSpec]]) -> list[str]:
    """What a data kind's entry lacks: its name its key, its settings block's keys declared (each
    with its default) under a name no other config key of the schema file `schema` (read from
    `where`) has, the modules of its loading and identity functions."""
    found = []
    for name, kind in kinds.items():
        if getattr(kind, "kind", None) != name:
            found.append(f"data kind {name!r}: its class says it is {getattr(kind, 'kind', None)!r}")
            continue
        if kind.block is not None and (kind.block in schema.get("properties", {}) or kind.block in registry.TASKS):
            found.append(f"data kind {name!r}: its block's name {kind.block!r} is a config key of {where} or a task "
                         "already: name it otherwise")
        if kind.block is not None and (kind.settings_type is None or any(
                "default" not in item.metadata.get("rule", {}) and item.name not in kind.defaults
                for item in fields(kind.settings_type))):
            found.append(f"data kind {name!r}: its settings block {kind.block!r} needs its settings_type, each "
                         "field declared with nndl.settings.setting(description, ..., default=...) or given a "
                         "default in the kind's `defaults`")
        if kind.settings_type is not None and (unknown := sorted(
                set(kind.defaults) - {item.name for item in fields(kind.settings_type)})):
            found.append(f"data kind {name!r}: defaults for {', '.join(unknown)}, not keys of "
                         f"{kind.settings_type.__name__}")
        for role in ("load", "identity"):
            dotted = getattr(kind, role, "")
            if not defined(dotted):
                found.append(f"data kind {name!r}: its {role} function {dotted!r} is not a function at the top "
                             "level of a module found (a dotted path: module.function)")
    return found


def registry_problems(schema: dict, where: str, tasks: dict[str, Task]) -> list[str]:
    """What the registry's entries lack against `schema` (read from `where`), each data kind's and
    each task's in turn: [] when every one is whole."""
    return (data_kind_problems(schema, where, registry.DATA_KINDS)
            + [text for task in tasks.values() for text in task_problems(task, schema, where, tasks)])


def choice_problems(config: dict, tasks: dict[str, Task]) -> list[str]:
    """What the schema cannot say about a config's `tasks:`: each chosen task's baseline chosen too
    (its report section sets the two side by side), and each study's task chosen (its default runs
    are the study's reference)."""
    chosen = config["tasks"]
    found = [f"tasks: {name!r} is set beside {tasks[name].baseline!r} in its report section: add "
             f"{tasks[name].baseline} to tasks" for name in chosen
             if tasks[name].baseline is not None and tasks[name].baseline not in chosen]
    found += [f"study {study['name']!r}: its task {study['task']!r} is not in tasks ({', '.join(chosen)}): add it there"
              for study in config["studies"] if study["task"] in tasks and study["task"] not in chosen]
    return found
