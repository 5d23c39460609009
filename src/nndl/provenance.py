"""What is needed to reproduce a result: git state, library versions, host and process (no torch)."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path


def git_state(root: str | Path) -> dict[str, str | bool | None]:
    """The commit checked out in `root` and whether the tracked tree differs from it."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                                  check=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def process_identity() -> dict[str, str]:
    return {"host": socket.gethostname(), "pid": str(os.getpid())}


PACKAGES = ["torch", "torchvision", "snakemake", "mlflow", "matplotlib", "papermill", "numpy"]


def package_versions() -> dict[str, str | None]:
    """Installed versions, read from package metadata (no import, so no import cost)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def versions() -> dict[str, str]:
    """{'python': its version, each of PACKAGES: its version or 'not installed'}: a run's
    `version.<name>` tags, the one place its versions are recorded."""
    return {"python": platform.python_version(),
            **{name: version or "not installed" for name, version in package_versions().items()}}
