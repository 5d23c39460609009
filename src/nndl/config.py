"""Load and validate a pipeline config against workflow/schemas/config.schema.yaml.

Snakemake validates the config itself (workflow/rules/common.smk); this module is the same check for
code that runs outside Snakemake (tests, benchmarks), plus helpers that read resolved values.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml

from nndl.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = PROJECT_ROOT / "workflow" / "schemas" / "config.schema.yaml"


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


def _describe(error) -> str:
    key = ".".join(str(part) for part in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        return f"config key {error.message.split(chr(39))[1]!r} under {key} is not a known key ({error.message})"
    hint = error.schema.get("description") if isinstance(error.schema, dict) else None
    return f"config key {key!r}: {error.message}" + (f" ({hint})" if hint else "")


def validate(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Return a validated copy of `config` with defaults filled in; raise ConfigError naming the key."""
    with open(schema_path, encoding="utf-8") as handle:
        schema = yaml.safe_load(handle)
    config = copy.deepcopy(config)
    errors = sorted(_validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e) for e in errors))
    return config


def load(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return validate(yaml.safe_load(handle) or {})


def config_hash(config: dict) -> str:
    """A short hash of the resolved config, for tagging runs (same config, same hash)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def run_config(config: dict, task: str, impl: str, seed: int) -> dict:
    """The resolved settings one training run depends on (its params in MLflow)."""
    settings = {"task": task, "impl": impl, "seed": seed, "device": config["device"],
                "threads": config["train_threads"], **config[task]}
    if task == "linreg":
        settings.update({"data": config["synthetic"], "gates": config["gates"]["linreg"]})
    else:
        fashion = config["data"]["fashion_mnist"]
        settings.update({"data": {"generate": fashion["generate"]}, "gates": config["gates"]["softmax"]})
    return settings


def tracking_uri(config: dict, root: str | Path | None = None) -> str:
    """MLFLOW_TRACKING_URI if set, else the config's, else sqlite mlflow.db in `root` (absolute)."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or config.get("mlflow", {}).get("tracking_uri")
    if uri:
        return uri
    root = Path(root) if root is not None else Path.cwd()
    return f"sqlite:///{(root / 'mlflow.db').resolve()}"
