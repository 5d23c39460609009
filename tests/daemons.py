"""What the root-only tests share: the project's daemon scripts (scripts/slurm-cluster.sh,
scripts/mlflow-server.sh), free ports, a server's credentials and answers, and a relay that
cuts a server off."""

import contextlib
import os
import socket
import subprocess
import threading
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


class Relay:
    """A TCP relay in front of a server: `cut()` closes it and drops every connection, so the
    server seems gone (connections refused), `restore()` relays again at once. The server itself
    keeps running, so an outage lasts exactly as long as the test wants."""

    def __init__(self, target_port: int):
        self.port, self.target, self.listener, self.open = free_port(), target_port, None, []
        self.lock = threading.Lock()  # a connection is either refused by a cut or closed by it
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            listener, self.listener, connections, self.open = self.listener, None, self.open, []
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: close alone does not
            listener.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            with self.lock:
                if listener is not self.listener:  # accepted as it was cut: refused, as the rest
                    client.close()
                    return
                try:
                    server = socket.create_connection(("127.0.0.1", self.target))
                except OSError:
                    client.close()
                    continue
                self.open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
