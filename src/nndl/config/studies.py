"""What the schema cannot say about the studies of a config, each problem naming the study and the key."""

from __future__ import annotations

import json

from nndl.runs.grid import grid
from nndl.tasks.registry import TASKS
from nndl.values import point_label


def _setting_schemas(schema: dict, block: str) -> dict[str, dict]:
    """{key: schema} of the keys of one config block."""
    return schema["properties"][block]["properties"]


def study_problems(config: dict, schema: dict) -> list[str]:
    """What the schema cannot say about the studies: unique names; every setting of `vary` and
    `set` known, meant for the study's task, not empty, each value valid for that setting; the
    metric one the task has. Each problem names the study and the key."""
    settings = {name: {key: node for block in task.setting_blocks for key, node in _setting_schemas(schema, block).items()}
                for name, task in TASKS.items()}
    problems, seen = [], set()
    for study in config["studies"]:
        where = f"study {study['name']!r}"
        if study["name"] in seen:
            problems.append(f"{where}: the name is used by another study; give each study its own name")
        seen.add(study["name"])
        if study["task"] not in TASKS:
            problems.append(f"{where}: task {study['task']!r} is not a task; the tasks are {', '.join(TASKS)}")
            continue
        problems += [f"{where}: {problem}" for problem in _setting_problems(study, settings, schema)]
        problems += [f"{where}: {problem}" for problem in _data_problems(config, study)]
        metrics = TASKS[study["task"]].metrics
        if study["metric"] is not None and study["metric"] not in metrics:
            problems.append(f"{where}: metric {study['metric']!r} is not one of the {study['task']} metrics: "
                            f"{', '.join(metrics)}")
    return problems


def _setting_problems(study: dict, settings: dict[str, dict], schema: dict) -> list[str]:
    """Each `vary` and `set` entry: a setting of the study's task, not empty, no value twice, each
    value valid by the setting's schema."""
    import jsonschema

    task, problems = study["task"], []
    values = [(f"vary.{key}", key, items) for key, items in study["vary"].items()]
    values += [(f"set.{key}", key, [value]) for key, value in study["set"].items()]
    for path, key, items in values:
        if key not in settings[task]:
            owners = [other for other, known in settings.items() if key in known]
            problems.append(f"{path} does not apply to {task}: it is a {', '.join(owners)} setting" if owners else
                            f"{path} is not a setting; {task} settings: {', '.join(sorted(settings[task]))}")
            continue
        if not items:
            problems.append(f"{path} is empty: list at least one value")
        if path.startswith("vary.") and key in study["set"]:
            problems.append(f"{key} is both varied and set; keep one")
        if len({json.dumps(_same_number(item), sort_keys=True) for item in items}) < len(items):
            problems.append(f"{path} lists a value twice (values equal as numbers, like 1 and 1.0, are one)")
        check = jsonschema.validators.validator_for(schema)(settings[task][key])
        hint = settings[task][key].get("description")
        for index, item in enumerate(items):
            at = path if path.startswith("set.") else f"{path}[{index}]"
            problems += [f"{at} = {item!r}: {error.message}" + (f" ({hint})" if hint else "")
                         for error in check.iter_errors(item)]
    return problems


def _same_number(value):
    """A number as the float it equals (1 and 1.0 are one grid point: they train the same run);
    True and False stay booleans; lists and mappings are compared item by item."""
    if isinstance(value, bool) or not isinstance(value, (int, float, list, dict)):
        return value
    if isinstance(value, list):
        return [_same_number(item) for item in value]
    if isinstance(value, dict):
        return {key: _same_number(item) for key, item in value.items()}
    return float(value)


def _data_problems(config: dict, study: dict) -> list[str]:
    """Combinations the task's data cannot have (its kind's `problems`: for the synthetic data, more
    outliers than training examples), at each grid point where they meet."""
    kind = TASKS[study["task"]].data
    if kind.block is None:
        return []
    problems = []
    # Only the settings that can clash, so a huge grid is not made here (nndl.runs.plan counts it).
    keys = [key for key in kind.clashing if key in study["vary"]]
    for point in grid({"vary": {key: study["vary"][key] for key in keys}}):
        settings = {**config[kind.block], **study["set"], **point}
        problems += [f"{problem} at {point_label(point)}" for problem in kind.problems(settings)]
    return problems
