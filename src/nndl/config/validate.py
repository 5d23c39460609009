"""Validate a pipeline config against the workflow's schema (workflow/schemas/config.schema.yaml,
with each task's blocks made from the registry: nndl.config.task_blocks), with messages that name
the key and say what is wrong.

The workflow calls `validate` where it is parsed (workflow/rules/common.smk) and hands the schema's
path in; tests and benchmarks do the same with `load`. Nothing here knows where the package is
installed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import importlib.util
from pathlib import Path

import yaml

from nndl import fingerprint
from nndl.config.coerce import as_written
from nndl.config.studies import study_problems
from nndl.config.task_blocks import with_tasks
from nndl.config.tasks import choice_problems, registry_problems
from nndl.errors import ConfigError
from nndl.files import read_json, write_json
from nndl.tasks.registry import DATA_KINDS, TASKS
from nndl.tasks.types import refuse_entries


# Where the workflow's own config and its schema are, from the project root.
DEFAULT_CONFIG = "config/config.yaml"
SCHEMA_PATH = "workflow/schemas/config.schema.yaml"


def _installed(package: str) -> str:
    """Where a package is installed and when it was written: changes when it is upgraded, and costs
    a stat (importlib.metadata alone takes about 0.3 s to import)."""
    origin = Path(importlib.util.find_spec(package).origin)
    return f"{origin}:{origin.stat().st_mtime_ns}"


def _validator(schema: dict):
    import jsonschema

    base = jsonschema.validators.validator_for(schema)

    def fill_defaults(validator, properties, instance, schema_node):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from base.VALIDATORS["properties"](validator, properties, instance, schema_node)

    return jsonschema.validators.extend(base, {"properties": fill_defaults})(schema)


def _study_label(config: dict, path: list) -> str | None:
    """"study 'lr' (studies[2])" for a path under studies.2, so a message names the study."""
    if len(path) < 2 or path[0] != "studies" or not isinstance(path[1], int):
        return None
    studies = config.get("studies")
    name = studies[path[1]].get("name") if isinstance(studies, list) and isinstance(studies[path[1]], dict) else None
    return f"study {name!r} (studies[{path[1]}])" if name else f"studies[{path[1]}]"


def _unknown_keys(error) -> str:
    """The keys an additionalProperties error is about, from the data (not its message)."""
    known = set(error.schema.get("properties", {}))
    return ", ".join(repr(key) for key in sorted(set(error.instance) - known))


def _describe(error, config: dict) -> str:
    path = list(error.absolute_path)
    study = _study_label(config, path)
    if study:
        key = ".".join(str(part) for part in path[2:]) or "<the study>"
        if error.validator == "additionalProperties":
            return f"{study}: key {_unknown_keys(error)} is not a study key ({error.message})"
        return f"{study}: key {key!r}: {error.message}"
    key = ".".join(str(part) for part in path) or "<top level>"
    if error.validator == "additionalProperties":
        return f"config key {_unknown_keys(error)} under {key} is not a known key ({error.message})"
    hint = error.schema.get("description") if isinstance(error.schema, dict) else None
    return f"config key {key!r}: {_message(error)}" + (f" ({hint})" if hint else "")


def _message(error) -> str:
    """jsonschema's message, said as the fix where its own words do not say it."""
    if error.validator == "contains" and "const" in error.validator_value:  # e.g. formats without png
        return f"must include {error.validator_value['const']!r} (it lists {error.instance!r})"
    expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    if error.validator == "type" and isinstance(error.instance, str) and {"number", "integer"} & set(expected):
        example = "0.1 or 1.0e-1" if "number" in expected else "3"
        return f"{error.message}; write a plain number there, like {example}"
    return error.message


def validate(config: dict, schema_path: str | Path, cache_dir: str | Path | None = None) -> dict:
    """Return a validated copy of `config` with defaults filled in; raise ConfigError naming the key.

    With `cache_dir`, a config that passed before with the same schema is read back from there
    instead of validated again: Snakemake validates on every start, and jsonschema's import and
    checks are most of what a no-op run adds to Snakemake's own start-up. Only valid configs are
    cached; the key hashes the config, the schema file, this module and jsonschema's version.
    """
    schema_bytes = Path(schema_path).read_bytes()
    schema = yaml.safe_load(schema_bytes)
    # The registry first, cached config or not (a model module it names may have gone since): a task
    # whose keys are not declared has no schema blocks to check its config against.
    refuse_entries(registry_problems(schema, str(schema_path), TASKS))
    schema = with_tasks(schema, TASKS, DATA_KINDS)
    cached = None
    if cache_dir is not None:
        # Everything the result depends on: the config, the schema, this code and the study checks'
        # (settings and metrics), the installed jsonschema.
        code = fingerprint.fingerprint(fingerprint.closure([__name__])).encode()
        key = hashlib.sha256(b"\0".join([json.dumps(config, sort_keys=True).encode(), schema_bytes, code,
                                         _installed("jsonschema").encode()]))
        cached = Path(cache_dir) / f"validated-config-{key.hexdigest()[:16]}.json"
        try:
            return read_json(cached)
        except FileNotFoundError:  # not validated yet (or another process just replaced it)
            pass
    config = _checked(as_written(copy.deepcopy(config), schema), schema)
    if cached is not None:
        for stale in cached.parent.glob("validated-config-*.json"):
            if stale != cached:
                stale.unlink(missing_ok=True)
        write_json(config, cached)
    return config


def _checked(config: dict, schema: dict) -> dict:
    """`config` (defaults filled in) once the schema, the study checks and the choice of tasks pass;
    else ConfigError naming each key."""
    errors = sorted(_validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e, config) for e in errors))
    problems = study_problems(config, schema)
    if problems:
        raise ConfigError("invalid study:\n  " + "\n  ".join(problems))
    problems = choice_problems(config, TASKS)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return config


def read_yaml(path: str | Path) -> dict:
    """A config file's mapping; a syntax error names the file, line and column (PyYAML's mark),
    which Snakemake's own loader does not say."""
    try:
        with open(path, encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(part for part in (getattr(error, "context", None), getattr(error, "problem", None)) if part)
        raise ConfigError(f"{where}: not valid YAML: {problem or error}. Fix it there (indent with spaces, "
                          "a space after each ':', quotes around text that holds ': ' or '#').") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: a config is a mapping of keys (seeds:, softmax:, ...), not a "
                          f"{type(content).__name__}")
    return content


def load(path: str | Path, schema_path: str | Path) -> dict:
    return validate(read_yaml(path), schema_path)
