"""config/exercises.yaml into the team server (authentication on, PostgreSQL) against the local
sqlite store, side by side in one benchmark run, cold both times.

    sudo .venv/bin/python -m benchmarks.team_server     # root: it starts PostgreSQL and the server

Target: the same statuses and every metric step in both stores, and the server's wall time at
most 1.3x the local store's.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import common
from benchmarks.project import prepared_project, snakemake

TARGETS = {"server_over_sqlite": 1.3}
EXPERIMENT = "nndl"  # config/exercises.yaml's (the default config's)


def _server(state: Path, *args: str) -> str:
    """scripts/mlflow-server.sh with its state in `state`; returns its standard output."""
    env = {**os.environ, "NNDL_MLFLOW_STATE": str(state), "NNDL_MLFLOW_PORT": "5917", "NNDL_PG_PORT": "5927",
           "NNDL_MLFLOW": str(common.ROOT / ".venv" / "bin" / "mlflow")}
    return subprocess.run(["bash", str(common.ROOT / "scripts" / "mlflow-server.sh"), *args], env=env, check=True,
                          capture_output=True, text=True, timeout=600).stdout


def _credentials(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def record_of(uri: str, credentials: dict[str, str]) -> dict[str, dict]:
    """{run name: {'status', 'steps': {metric: [steps]}}} of the experiment's live runs."""
    os.environ.update(credentials)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], max_results=50_000)

    def steps_of(run) -> dict[str, list[int]]:
        return {key: sorted(m.step for m in client.get_metric_history(run.info.run_id, key))
                for key in run.data.metrics}

    with ThreadPoolExecutor(8) as pool:  # one call per run and metric: side by side, as a server answers best
        histories = list(pool.map(steps_of, runs))
    found = {run.info.run_name: {"status": run.info.status, "steps": steps} for run, steps in zip(runs, histories)}
    for key in credentials:
        os.environ.pop(key, None)
    return found


def measure(options) -> dict:
    with tempfile.TemporaryDirectory(prefix="nndl-team-", dir="/tmp") as scratch:
        state = Path(scratch) / "server"
        state.mkdir(mode=0o755)
        Path(scratch).chmod(0o755)  # the postgres user reaches its folder
        uri = "http://127.0.0.1:5917"
        _server(state, "up")
        try:
            _server(state, "add-user", "pipeline", EXPERIMENT)
            pipeline = _credentials(state / "auth" / "users" / "pipeline.env")
            admin = _credentials(state / "auth" / "admin.env")
            local = prepared_project(Path(scratch) / "local", "config.yaml")
            team = prepared_project(Path(scratch) / "team", "config.yaml")
            common.say("  exercises, local sqlite store ...")
            local_s = snakemake(local, "--configfile", "config/exercises.yaml")
            common.say(f"  {local_s:.1f} s; exercises, team server ...")
            team_s = snakemake(team, "--configfile", "config/exercises.yaml",
                               env={"MLFLOW_TRACKING_URI": uri, **pipeline})
            common.say(f"  {team_s:.1f} s; reading both stores back ...")
            in_sqlite = record_of(f"sqlite:///{local / 'mlflow.db'}", {})
            on_server = record_of(uri, admin)
            answers = {path.parent.name: json.loads(path.read_text())["answer"]
                       for path in sorted((local / "results" / "studies").glob("*/summary.json"))}
        finally:
            _server(state, "down")
    same = in_sqlite == on_server
    differing = sorted(name for name in set(in_sqlite) | set(on_server) if in_sqlite.get(name) != on_server.get(name))
    ratio = team_s / local_s
    common.say(f"  {len(in_sqlite)} runs in sqlite, {len(on_server)} on the server; differing: {differing[:5]}")
    return {"sqlite_s": local_s, "server_s": team_s, "runs": len(in_sqlite), "differing_runs": differing,
            "answers": answers,  # each study's answer, for comparing with other versions of the code
            "verdicts": [
                common.verdict("same statuses and metric steps in both stores (differing runs)", len(differing), 0,
                               same),
                common.verdict("team server wall / sqlite wall, exercises cold", ratio,
                               TARGETS["server_over_sqlite"], ratio <= TARGETS["server_over_sqlite"])]}


if __name__ == "__main__":
    common.main("team_server", measure, __doc__)
