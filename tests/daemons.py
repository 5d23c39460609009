"""What the root-only tests share: the project's daemon scripts (scripts/slurm-cluster.sh,
scripts/mlflow-server.sh), free ports, a server's credentials and answers."""

import os
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="starts system daemons: run as root (CI does)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def script(name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", str(ROOT / "scripts" / name), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=600)
    assert result.returncode == 0, f"{name} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def credentials(path: Path) -> dict:
    """MLFLOW_TRACKING_USERNAME and _PASSWORD from a file scripts/mlflow-server.sh wrote."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def http_status(url: str, user: str | None = None, password: str | None = None, data: bytes | None = None) -> int:
    import base64
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    if user:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
