"""The team server going away while a chunk trains (root only: it starts PostgreSQL and MLflow).
Its own file, so that pytest-xdist runs it beside the cluster test, not after it."""

import contextlib
import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, small_config
from daemons import free_port, needs_root, script
from mlflow_store import metric_steps, runs_by_name, statuses_by_name

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def one_finished_run_each(uri: str, epochs: int) -> None:
    statuses = statuses_by_name(uri, "nndl-small")
    assert statuses == {f"softmax-{impl}-seed0": ["FINISHED"] for impl in ("scratch", "concise")}, statuses
    for run in runs_by_name(uri, "nndl-small").values():
        for key in ("train/loss", "test/accuracy"):
            assert metric_steps(uri, run.info.run_id, key) == list(range(1, epochs + 1)), (run.info.run_name, key)


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


def start_training(workflow, target: str, env: dict, epochs: int):
    """Snakemake on `target`, returned once the first run's epoch 3 is in the job's log."""
    log = workflow.path(f"logs/train/{Path(target).stem}.log")
    process = subprocess.Popen(workflow.command(target), cwd=workflow.folder, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: process.poll() is not None or (log.exists() and f"epoch 3/{epochs}" in log.read_text()),
             240, "epoch 3")
    assert process.poll() is None, f"Snakemake stopped before epoch 3:\n{process.communicate()[0][-3000:]}"
    return process


@needs_root
def test_the_server_going_away_mid_training_stalls_nothing_and_loses_nothing(workflow, server_state):
    """An outage longer than the job waits: training goes on, the files are complete while the
    server is away, the job fails saying so, and a plain rerun records the runs from their files.
    Then an outage the job rides out: nothing missing."""
    env = {"NNDL_MLFLOW_STATE": str(server_state), "NNDL_MLFLOW_PORT": str(free_port()),
           "NNDL_PG_PORT": str(free_port()), "NNDL_MLFLOW": str(ROOT / ".venv" / "bin" / "mlflow"),
           "NNDL_MLFLOW_AUTH": "off"}
    script("mlflow-server.sh", "up", env=env)
    relay = Relay(int(env["NNDL_MLFLOW_PORT"]))
    uri = f"http://127.0.0.1:{relay.port}"
    try:
        config = small_config()
        config["softmax"]["epochs"] = 150  # about 5 s a run on the stand-in
        config["mlflow"]["record_timeout_s"] = 10
        workflow.write_config(config)
        # MLflow's own retries cut to about 2 s, so both outages outlast them: the record rides
        # them out on the delivery's retries alone.
        job_env = workflow.environment(MLFLOW_TRACKING_URI=uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
                                       MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="1")
        target = "results/chunks/softmax-0-of-1.json"
        process = start_training(workflow, target, job_env, 150)
        relay.cut()
        output = process.communicate(timeout=600)[0]
        assert process.returncode != 0
        assert f"the MLflow store at {uri} did not record these runs within 10 s" in output, output[-3000:]
        assert "Their files are complete on disk" in output and "last error: softmax-" in output
        records = {path: path.read_bytes() for path in workflow.path("results/runs").rglob("complete.json")}
        assert len(records) == 2  # both written while the server was away
        for path in records:
            seconds = [epoch["epoch_seconds"] for epoch in json.loads(path.with_name("history.json").read_text())["epochs"]]
            # An epoch that waited on the server would wait out MLflow's retries (about 2 s here) or
            # the outage (10 s and more); a busy machine slows one by a fraction of a second.
            assert max(seconds) < 2.0, f"an epoch waited on the server: {max(seconds):.2f} s"

        relay.restore()
        config["mlflow"]["record_timeout_s"] = 300  # recording the runs from their files takes its time
        workflow.write_config(config)
        workflow.run(target, env=job_env)
        manifest = json.loads(workflow.path(target).read_text())
        assert not any(row["trained"] for row in manifest["runs"])
        assert {path: path.read_bytes() for path in records} == records
        one_finished_run_each(uri, 150)

        config["softmax"]["epochs"] = 151  # new specs, trained through a 30 s outage (the most to ride out)
        workflow.write_config(config)
        process = start_training(workflow, target, job_env, 151)
        relay.cut()
        time.sleep(30)
        relay.restore()
        output = process.communicate(timeout=600)[0]
        assert process.returncode == 0, output[-3000:]
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        runs = client.search_runs([client.get_experiment_by_name("nndl-small").experiment_id],
                                  filter_string="params.epochs = '151'")
        assert sorted(run.info.run_name for run in runs) == ["softmax-concise-seed0", "softmax-scratch-seed0"]
        assert all(run.info.status == "FINISHED" for run in runs)
        for run in runs:
            assert metric_steps(uri, run.info.run_id, "train/loss") == list(range(1, 152))
    finally:
        relay.cut()
        script("mlflow-server.sh", "down", env=env)
