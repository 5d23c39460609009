"""This project's identity: made once, the first time the workflow is parsed, and kept in the
project (names.PROJECT_FILE, outside git, so each clone is a project of its own). Every MLflow run
the pipeline makes carries it, so that in a store shared with teammates (another clone, another
machine) a pipeline finds, ends, marks and deletes only its own runs. No torch, no MLflow."""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from pathlib import Path

from nndl.errors import ConfigError
from nndl.files import write_json


def project_identity(path: str | Path) -> str:
    """The id kept in `path` ('p-' and 12 hex digits), made there if there is none."""
    path = Path(path)
    try:
        return json.loads(path.read_text())["id"]
    except FileNotFoundError:
        pass
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{path} is not this project's identity file (JSON with an 'id'). If you "
                          f"did not edit it, move it aside (mv {path} {path}.damaged) and run again: a new "
                          "identity is made, and the complete runs are recorded again under it, without "
                          "training (the old identity's runs stay in the store, untouched).") from None
    identity = f"p-{secrets.token_hex(6)}"
    made = path.with_name(f".{path.name}.{identity}")
    write_json({"id": identity, "made": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": socket.gethostname(),
                "folder": str(path.resolve().parent.parent)}, made)
    try:
        os.link(made, path)  # fails if another process made one meanwhile: then that one is kept
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: create it only if absent, all the same
        try:
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(made.read_text(encoding="utf-8"))
        except FileExistsError:
            pass
    finally:
        made.unlink()
    return json.loads(path.read_text())["id"]
