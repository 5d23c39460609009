"""Validate a pipeline config against the workflow's schema (workflow/schemas/config.schema.yaml).

The workflow calls `validate` where it is parsed (workflow/rules/common.smk) and hands the schema's
path in; tests and benchmarks do the same with `load`. Nothing here knows where the package is
installed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
from importlib import metadata
from pathlib import Path

import yaml

from nndl import layout, specs
from nndl.errors import ConfigError
from nndl.files import read_json, write_json


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


def _describe(error, config: dict) -> str:
    path = list(error.absolute_path)
    study = _study_label(config, path)
    if study:
        key = ".".join(str(part) for part in path[2:]) or "<the study>"
        if error.validator == "additionalProperties":
            return f"{study}: key {error.message.split(chr(39))[1]!r} is not a study key ({error.message})"
        return f"{study}: key {key!r}: {error.message}"
    key = ".".join(str(part) for part in path) or "<top level>"
    if error.validator == "additionalProperties":
        return f"config key {error.message.split(chr(39))[1]!r} under {key} is not a known key ({error.message})"
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
        # (settings and metrics), jsonschema's version.
        code = b"".join(Path(module.__file__).read_bytes() for module in (sys.modules[__name__], specs, layout))
        key = hashlib.sha256(b"\0".join([json.dumps(config, sort_keys=True).encode(), schema_bytes, code,
                                         metadata.version("jsonschema").encode()]))
        cached = Path(cache_dir) / f"validated-config-{key.hexdigest()[:16]}.json"
        try:
            return read_json(cached)
        except FileNotFoundError:  # not validated yet (or another process just replaced it)
            pass
    config = copy.deepcopy(config)
    errors = sorted(_validator(yaml.safe_load(schema_bytes)).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e, config) for e in errors))
    problems = _study_problems(config, yaml.safe_load(schema_bytes))
    if problems:
        raise ConfigError("invalid study:\n  " + "\n  ".join(problems))
    if cached is not None:
        for stale in cached.parent.glob("validated-config-*.json"):
            if stale != cached:
                stale.unlink(missing_ok=True)
        write_json(config, cached)
    return config


def _setting_schemas(schema: dict, block: str) -> dict[str, dict]:
    """{key: schema} of the keys of one config block (following a $ref to $defs)."""
    node = schema["properties"][block]
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node["properties"]


def _study_problems(config: dict, schema: dict) -> list[str]:
    """What the schema cannot say about the studies: unique names; every setting of `vary` and
    `set` known, meant for the study's task, not empty, each value valid for that setting; the
    metric one the task has. Each problem names the study and the key."""
    import jsonschema

    settings = {task: {key: node for block in blocks for key, node in _setting_schemas(schema, block).items()}
                for task, blocks in specs.SETTING_BLOCKS.items()}
    problems, seen = [], set()
    for study in config["studies"]:
        name, task = study["name"], study["task"]
        where = f"study {name!r}"
        if name in seen:
            problems.append(f"{where}: the name is used by another study; give each study its own name")
        seen.add(name)
        values = [(f"vary.{key}", key, items) for key, items in study["vary"].items()]
        values += [(f"set.{key}", key, [value]) for key, value in study["set"].items()]
        for path, key, items in values:
            if key not in settings[task]:
                owners = [other for other, known in settings.items() if key in known]
                problems.append(
                    f"{where}: {path} does not apply to {task}: it is a {owners[0]} setting" if owners else
                    f"{where}: {path} is not a setting; {task} settings: {', '.join(sorted(settings[task]))}")
                continue
            if not items:
                problems.append(f"{where}: {path} is empty: list at least one value")
            if path.startswith("vary.") and key in study["set"]:
                problems.append(f"{where}: {key} is both varied and set; keep one")
            if len({json.dumps(item, sort_keys=True) for item in items}) < len(items):
                problems.append(f"{where}: {path} lists a value twice")
            check = jsonschema.validators.validator_for(schema)(settings[task][key])
            for index, item in enumerate(items):
                for error in check.iter_errors(item):
                    at = path if path.startswith("set.") else f"{path}[{index}]"
                    hint = settings[task][key].get("description")
                    problems.append(f"{where}: {at} = {item!r}: {error.message}" + (f" ({hint})" if hint else ""))
        if task == "linreg":  # a combination the data cannot have
            for point in specs.grid(study):
                data = {**config[specs.DATA_BLOCK], **study["set"], **point}
                if isinstance(data.get("outliers"), int) and isinstance(data.get("n_train"), int) \
                        and data["outliers"] > data["n_train"]:
                    problems.append(f"{where}: outliers = {data['outliers']} is more than n_train = "
                                    f"{data['n_train']} at {specs.point_label(point)}")
        metrics = layout.STUDY_METRICS[task]
        if study["metric"] is not None and study["metric"] not in metrics:
            problems.append(f"{where}: metric {study['metric']!r} is not one of the {task} metrics: "
                            f"{', '.join(metrics)}")
    return problems


def load(path: str | Path, schema_path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return validate(yaml.safe_load(handle) or {}, schema_path)


def tracking_uri(configured: str | None = None, root: str | Path | None = None) -> str:
    """MLFLOW_TRACKING_URI if set, else `configured` (mlflow.tracking_uri), else sqlite mlflow.db
    in `root` (default: the working directory), as an absolute path."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or configured
    if uri:
        return uri
    return f"sqlite:///{(Path(root or Path.cwd()) / 'mlflow.db').resolve()}"


def export_tracking_uri(configured: str | None, root: str | Path) -> str:
    """Resolve the tracking URI (as `tracking_uri`) and put it in MLFLOW_TRACKING_URI, where the
    jobs the workflow starts find it. Returns it."""
    uri = tracking_uri(configured, root)
    os.environ["MLFLOW_TRACKING_URI"] = uri
    return uri


def check_tracking_access(uri: str, timeout_s: float = 10.0) -> None:
    """Before any job: raise ConfigError if the MLflow server at `uri` (http or https) refuses this
    process's credentials (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, MLflow's own
    variables) or asks for some. A local store, or a server that does not answer, is left to the
    jobs. The credentials stay in the environment: nothing here writes them anywhere."""
    if not uri.startswith(("http://", "https://")):
        return
    import base64
    import urllib.error
    import urllib.request

    username = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    request = urllib.request.Request(f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/search?max_results=1")
    if username and password:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        urllib.request.urlopen(request, timeout=timeout_s).close()
    except urllib.error.HTTPError as error:
        if error.code not in (401, 403):
            return
        who = f"the credentials of user {username!r}" if username and password else "a request without credentials"
        raise ConfigError(
            f"the MLflow server at {uri} refused {who} (HTTP {error.code}). Set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD to an account with EDIT permission on the experiment "
            "(scripts/mlflow-server.sh add-user NAME writes both to a file: "
            "set -a; . <that file>; set +a). Nothing ran.") from None
    except (urllib.error.URLError, OSError):  # not up, or not reachable from here: the jobs will say
        return
