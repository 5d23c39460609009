"""Validate a pipeline config against the workflow's schema (workflow/schemas/config.schema.yaml),
with messages that name the key and say what is wrong.

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
from nndl.config.studies import study_problems
from nndl.errors import ConfigError
from nndl.files import read_json, write_json


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
    return f"config key {key!r}: {error.message}" + (f" ({hint})" if hint else "")


def validate(config: dict, schema_path: str | Path, cache_dir: str | Path | None = None) -> dict:
    """Return a validated copy of `config` with defaults filled in; raise ConfigError naming the key.

    With `cache_dir`, a config that passed before with the same schema is read back from there
    instead of validated again: Snakemake validates on every start, and jsonschema's import and
    checks are most of what a no-op run adds to Snakemake's own start-up. Only valid configs are
    cached; the key hashes the config, the schema file, this module and jsonschema's version.
    """
    schema_bytes = Path(schema_path).read_bytes()
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
    config = copy.deepcopy(config)
    errors = sorted(_validator(yaml.safe_load(schema_bytes)).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e, config) for e in errors))
    problems = study_problems(config, yaml.safe_load(schema_bytes))
    if problems:
        raise ConfigError("invalid study:\n  " + "\n  ".join(problems))
    if cached is not None:
        for stale in cached.parent.glob("validated-config-*.json"):
            if stale != cached:
                stale.unlink(missing_ok=True)
        write_json(config, cached)
    return config


def load(path: str | Path, schema_path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return validate(yaml.safe_load(handle) or {}, schema_path)
