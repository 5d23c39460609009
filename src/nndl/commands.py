"""Commands the pipeline prints for a user to paste: every word quoted for the shell, so a path with
spaces or Chinese characters pastes as one word. No third-party import."""

from __future__ import annotations

import shlex
from pathlib import Path


def shell(*words: str | Path) -> str:
    """'mv /x 项目 dir/mlflow.db ...' as a line bash runs as meant: mv '/x 项目 dir/mlflow.db' ..."""
    return " ".join(shlex.quote(str(word)) for word in words)


def with_environment(variables: dict[str, str], *words: str | Path) -> str:
    """`shell(*words)` run with `variables` set for it: MLFLOW_TRACKING_URI='sqlite:///...' mlflow ..."""
    assigned = " ".join(f"{name}={shlex.quote(str(value))}" for name, value in variables.items())
    return f"{assigned} {shell(*words)}"
