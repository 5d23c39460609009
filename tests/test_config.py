"""The config schema (defaults, typos, bad values) in the package and in real Snakemake; run specs
and chunks resolved from it."""

import copy
import io
import json
import re
import shlex
import shutil
import sqlite3
import subprocess
from contextlib import closing

import pytest
import yaml

from conftest import ROOT, SCHEMA, small_config
from nndl.config import validate as config_module
from nndl.errors import ConfigError, TrackingError
from nndl.runs import chunks, names, specs
from nndl.runs.plan import resolve_runs
from nndl.tasks.registry import TASKS
from nndl.tasks.runspec import RunSpec, spec_hash
from nndl.tasks.types import IMPLS
from nndl.tracking import probe
from nndl.tracking import uri as tracking_uri_module

DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def with_value(dotted: str, value):
    config = copy.deepcopy(DEFAULT)
    node = config
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node[key]
    node[leaf] = value
    return config


@pytest.mark.parametrize("name", ["config.yaml", "small.yaml", "exercises.yaml"])
def test_shipped_configs_are_valid(name):
    """Loading fills in what the schema guarantees, whether or not the file says it."""
    raw = yaml.safe_load((ROOT / "config" / name).read_text())
    config = config_module.load(ROOT / "config" / name, SCHEMA)
    assert config["chunk_seconds"] == raw.get("chunk_seconds", 60)
    assert config["softmax"]["formula"] == raw.get("softmax", {}).get("formula", "stable")
    assert config["softmax"]["pixel_scale"] == raw.get("softmax", {}).get("pixel_scale", "1/255")
    assert config["linreg"]["loss"] == raw.get("linreg", {}).get("loss", "squared")
    assert config["synthetic"]["noise"] == raw.get("synthetic", {}).get("noise", "gaussian")
    assert config["train_threads"] == raw.get("train_threads", 1)
    assert set(config["softmax"]) == {"batch_size", "learning_rate", "epochs", "init_std", "init", "reduction",
                                      "shuffle", "formula", "pixel_scale"}
    assert config["seeds"] and config["softmax"]["epochs"] >= 1
    assert all({"name", "vary"} <= set(study) for study in config["studies"])


def test_defaults_fill_missing_keys():
    config = config_module.validate({}, SCHEMA)
    assert config["softmax"] == {"batch_size": 256, "learning_rate": 0.1, "epochs": 10, "init_std": 0.01,
                                 "init": "normal", "reduction": "mean", "shuffle": True, "formula": "stable",
                                 "pixel_scale": "1/255"}
    assert config["studies"] == [] and config["synthetic"]["noise"] == "gaussian"
    assert config["linreg"]["learning_rate"] == 0.03
    assert config["synthetic"]["true_w"] == [2.0, -3.4] and config["synthetic"]["true_b"] == 4.2
    assert config["device"] == "auto" and config["seeds"] == [0]
    assert config["chunk_seconds"] == 60 and config["train_threads"] == 1


def test_typo_names_the_key():
    config = copy.deepcopy(DEFAULT)
    config["softmax"]["lerning_rate"] = config["softmax"].pop("learning_rate")
    with pytest.raises(ConfigError) as caught:
        config_module.validate(config, SCHEMA)
    assert "'lerning_rate' under softmax is not a known key" in str(caught.value)


@pytest.mark.parametrize("dotted, value, expected", [
    ("device", "tpu", "config key 'device'"),
    ("softmax.learning_rate", 0, "config key 'softmax.learning_rate'"),
    ("linreg.learning_rate", -0.1, "config key 'linreg.learning_rate'"),
    ("softmax.epochs", 0, "config key 'softmax.epochs'"),
    ("linreg.batch_size", 0, "config key 'linreg.batch_size'"),
    ("gates.softmax.min_test_accuracy", 1.5, "config key 'gates.softmax.min_test_accuracy'"),
    ("gates.softmax.min_train_accuracy", -0.1, "config key 'gates.softmax.min_train_accuracy'"),
    ("seeds", [], "config key 'seeds'"),
    ("figures.labels", "fr", "config key 'figures.labels'"),
    ("softmax.batch_size", "256 images", "is not of type 'integer'"),
    ("mlp.num_hiddens", 0, "config key 'mlp.num_hiddens'"),
])
def test_bad_values_name_the_key(dotted, value, expected):
    with pytest.raises(ConfigError, match="invalid config") as caught:
        config_module.validate(with_value(dotted, value), SCHEMA)
    assert expected in str(caught.value)


def test_run_specs_carry_everything_a_run_depends_on():
    runs = resolve_runs(config_module.validate(with_value("seeds", [3, 1]), SCHEMA))
    # Every task of the registry, in its order; each seed in the config's order; each implementation.
    assert [spec.name for spec in runs] == [f"{task}-{impl}-seed{seed}" for task in TASKS for seed in (3, 1)
                                            for impl in IMPLS]
    assert runs[0].name == "linreg-scratch-seed3" and runs[-1].name == f"{list(TASKS)[-1]}-concise-seed1"
    softmax = next(spec for spec in runs if spec.name == "softmax-scratch-seed3")
    assert softmax.dir == f"results/runs/softmax-scratch/seed-3/{specs.training_key(softmax)}"
    settings = softmax.settings
    assert {key: getattr(settings, key) for key in ("batch_size", "learning_rate", "epochs", "init_std")} == \
        DEFAULT["softmax"]
    assert settings.formula == "stable" and settings.shuffle is True and settings.init == "normal"
    assert softmax.data.to_json() == {"path": "resources/fashion-mnist",
                                      "manifest": "resources/fashion-mnist/manifest.json", "generate": None}
    assert softmax.gates == DEFAULT["gates"]["softmax"] and softmax.device == "auto" and softmax.threads == 1
    data = runs[0].data
    assert data.path == f"resources/synthetic/linreg-{data.digest}.npz" and data.settings.noise_std == 0.01
    assert runs[0].settings.loss == "squared" and runs[0].settings.reduction == "mean"
    # Plain data as JSON: it travels through Snakemake params and into MLflow, and reads back the same.
    assert [RunSpec.from_json(json.loads(json.dumps(spec.to_json()))) for spec in runs] == runs


def test_typed_specs_keep_every_folder_and_hash_of_the_dict_specs():
    """The specs of config/exercises.yaml as the plain dicts of 6e6d0c6 hashed and placed them
    (tests/data/exercises-spec-hashes.json): no run's folder moves, no hash changes."""
    before = json.loads((ROOT / "tests" / "data" / "exercises-spec-hashes.json").read_text())
    exercises = config_module.validate(yaml.safe_load((ROOT / "config" / "exercises.yaml").read_text()), SCHEMA)
    runs = [spec for spec in resolve_runs(exercises) if spec.name in before]
    assert len(runs) == len(before) == 239
    assert {spec.name: {"spec_hash": spec_hash(spec), "dir": spec.dir} for spec in runs} == before


def test_spec_hash_changes_with_the_run_and_only_with_it():
    default = resolve_runs(config_module.validate(DEFAULT, SCHEMA))
    faster = resolve_runs(config_module.validate(with_value("softmax.learning_rate", 0.2), SCHEMA))
    changed = [a.name for a, b in zip(default, faster) if spec_hash(a) != spec_hash(b)]
    assert changed == ["softmax-scratch-seed0", "softmax-concise-seed0"]
    renamed = resolve_runs(config_module.validate(with_value("mlflow.experiment", "other"), SCHEMA))
    assert [spec_hash(s) for s in renamed] == [spec_hash(s) for s in default]


@pytest.mark.parametrize("seeds, budget, expected", [
    ([0], 60, {"linreg": [2], "softmax": [2], "mlp": [2]}),            # the default: one job per task
    ([0], 1, {"linreg": [2], "softmax": [1, 1], "mlp": [1, 1]}),       # no more chunks than runs
    (list(range(16)), 60, {"linreg": [32], "softmax": [8] * 4, "mlp": [5, 5, 6, 5, 5, 6]}),  # an mlp run: ~1.3x softmax's
    (list(range(3)), 5, {"linreg": [6], "softmax": [1] * 6, "mlp": [1] * 6}),
])
def test_chunks_follow_the_budget_and_hold_one_task(seeds, budget, expected):
    config = with_value("seeds", seeds)
    config["tasks"] = list(expected)  # the tasks whose chunks are pinned: a task added later is not among them
    runs = resolve_runs(config_module.validate(config, SCHEMA))
    chunk_ids = chunks.chunk_ids(runs, budget)
    members = {}
    for chunk in chunk_ids:
        chunk_runs = chunks.chunk_members(runs, **chunk)
        assert {spec.task for spec in chunk_runs} == {chunk["group"]}
        members.setdefault(chunk["group"], []).append(len(chunk_runs))
    assert members == expected
    trained = [spec.name for chunk in chunk_ids for spec in chunks.chunk_members(runs, **chunk)]
    assert sorted(trained) == sorted(spec.name for spec in runs)  # every run exactly once


def test_chunks_do_not_depend_on_anything_but_the_config():
    runs = resolve_runs(config_module.validate(with_value("seeds", [0, 1]), SCHEMA))
    assert chunks.chunk_ids(runs, 60) == chunks.chunk_ids(copy.deepcopy(runs), 60)
    wanted = [spec for spec in runs if spec.name == "softmax-concise-seed1"]
    assert chunks.ChunkPlan(runs, chunks.chunk_ids(runs, 1)).chunks_of(wanted) == [
        {"group": "softmax", "part": 3, "parts": 4}]


def test_the_plan_cut_once_says_what_each_chunk_says_alone():
    """nndl.runs.chunks.ChunkPlan (grouped and cut once per parse) against chunk_members (per
    request), on the default runs of three seeds and a study's grid."""
    raw = with_value("seeds", [0, 1, 2])
    raw["studies"] = [{"name": "grid", "question": "?", "task": "linreg", "seeds": [0, 1],
                       "vary": {"learning_rate": [0.01, 0.03, 0.1], "batch_size": [5, 10, 20, 50]}}]
    runs = resolve_runs(config_module.validate(raw, SCHEMA))
    chunk_ids = chunks.chunk_ids(runs, 2)
    plan = chunks.ChunkPlan(runs, chunk_ids)
    for chunk in chunk_ids:
        assert plan.runs_of(chunk["group"], chunk["part"], chunk["parts"]) == chunks.chunk_members(runs, **chunk)
    for wanted in (runs[:1], runs[5:9], [spec for spec in runs if spec.study], runs):
        names_wanted = {spec.name for spec in wanted}
        assert plan.chunks_of(wanted) == [chunk for chunk in chunk_ids if any(
            spec.name in names_wanted for spec in chunks.chunk_members(runs, **chunk))]
    for chunk in ({"group": "softmax", "part": 0, "parts": 1}, {"group": "softmax", "part": 2, "parts": 5}):
        assert plan.runs_of(**chunk) == chunks.chunk_members(runs, **chunk)  # asked for by name, cut otherwise
    with pytest.raises(ValueError, match="chunk softmax-9-of-9 holds no runs: the config has 6 run"):
        plan.runs_of("softmax", 9, 9)


def test_tracking_uri_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri_module.tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert tracking_uri_module.tracking_uri("http://127.0.0.1:5000", tmp_path) == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:6000")
    assert tracking_uri_module.tracking_uri("http://x", tmp_path) == "http://127.0.0.1:6000"


def test_the_closing_hint_links_the_store_in_use(tmp_path):
    """The line the pipeline prints at the end: the local UI with how to start it, or the team
    server's own runs page; nothing before the runs were read back."""
    tracked = tmp_path / "runs.json"
    assert tracking_uri_module.closing_hint(tracked) == ""
    tracked.write_text(json.dumps({"tracking_uri": "sqlite:////somewhere/mlflow.db", "experiment_id": "3"}))
    local = tracking_uri_module.closing_hint(tracked)
    assert "mlflow ui" in local and "http://127.0.0.1:5000/#/experiments/3/runs" in local
    # Not ./mlflow.db (a teammate's store, MLFLOW_TRACKING_URI): `mlflow ui` is told which.
    assert "mlflow ui --backend-store-uri sqlite:////somewhere/mlflow.db" in local
    tracked.write_text(json.dumps({"tracking_uri": "http://team.example:8080/", "experiment_id": "7",
                                   "project": "p-0dd1522cbe0c"}))
    server = tracking_uri_module.closing_hint(tracked)
    # This project's live runs: a team's store holds its teammates' too, and the runs superseded where
    # this user may not delete them (the UI applies the search; tests/test_tracking.py runs it).
    assert ("http://team.example:8080/#/experiments/7/runs?searchFilter="
            "tags.%60nndl.project%60%20%3D%20%27p-0dd1522cbe0c%27%20and%20tags.%60nndl.recorded%60%20%3D%20%27true%27"
            ) in server
    assert "mlflow ui" not in server and "127.0.0.1" not in server
    # Each study's saved view after the runs' (nndl.tracking.views), where the studies were logged.
    studies = tmp_path / "studies.json"
    link = "http://team.example:8080/#/experiments/7/runs?viewStateShareKey=p-0dd1522cbe0c.study.lr&compareRunsMode=CHART"
    studies.write_text(json.dumps({"tracking_uri": "http://team.example:8080/", "views": {"lr": link, "gone": link}}))
    hint = tracking_uri_module.closing_hint(tracked, studies, ("lr",))
    assert hint == f"{server}\nstudy lr, its runs side by side: {link}"  # a study no longer in the config: not linked
    assert tracking_uri_module.closing_hint(tracked, tmp_path / "absent.json", ("lr",)) == server
    studies.write_text(json.dumps({"tracking_uri": "sqlite:////elsewhere/mlflow.db", "views": {"lr": link}}))
    assert tracking_uri_module.closing_hint(tracked, studies, ("lr",)) == server  # logged into another store
    # A store whose path has a space and Chinese characters: the command pastes as printed.
    store = f"sqlite:///{tmp_path / 'x 项目 dir' / 'mlflow.db'}"
    tracked.write_text(json.dumps({"tracking_uri": store, "experiment_id": "3"}))
    command = tracking_uri_module.closing_hint(tracked).split("with: ", 1)[1].split("\n")[0]
    assert shlex.split(command)[-2:] == ["--backend-store-uri", store]


def test_a_valid_config_is_cached_and_a_bad_one_never_is(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = config_module.validate(DEFAULT, SCHEMA, cache_dir=cache)
    assert first == config_module.validate(DEFAULT, SCHEMA) and len(list(cache.iterdir())) == 1

    def no_validation(schema):
        raise AssertionError("validated again")

    monkeypatch.setattr(config_module, "_validator", no_validation)
    assert config_module.validate(DEFAULT, SCHEMA, cache_dir=cache) == first  # read back
    monkeypatch.undo()
    with pytest.raises(ConfigError, match="config key 'device'"):
        config_module.validate(with_value("device", "tpu"), SCHEMA, cache_dir=cache)
    assert len(list(cache.iterdir())) == 1
    other_schema = tmp_path / "schema.yaml"
    other_schema.write_text(SCHEMA.read_text().replace("default: 20\n", "default: 30\n"))
    changed = copy.deepcopy(DEFAULT)
    del changed["evaluation"]
    assert config_module.validate(changed, other_schema, cache_dir=cache)["evaluation"]["n_predictions"] == 30


def test_a_server_that_refuses_the_credentials_stops_the_run(monkeypatch):
    """The check Snakemake runs before any job: 401 from the server is a ConfigError naming the
    server and the variables; a server that does not answer is a TrackingError; a busy one that
    takes longer to answer than to take the connection is waited for."""
    import http.server
    import threading
    import time

    class Refuses(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if "experiment_name=slow" in self.path:  # a server opening its store on its first call
                time.sleep(0.6)
                return self.answer({"experiment": {"experiment_id": "7", "lifecycle_stage": "active"}})
            if "users/current/permissions" in self.path:  # a server without authentication
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(401 if "Authorization" not in self.headers or "secret" not in self.headers.get(
                "Authorization", "") else 200)
            self.end_headers()

        def do_POST(self):  # runs/search, in two pages
            asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert asked["filter"] == "tags.`nndl.project` = 'p-me' and tags.`nndl.recorded` = 'true'"
            page = {"runs": [{"data": {"tags": [{"key": "nndl.run_key", "value": "k1"}]}}], "next_page_token": "2"}
            if asked.get("page_token") == "2":
                page = {"runs": [{"data": {"tags": [{"key": "nndl.run_key", "value": "k2"}]}}]}
            self.answer(page)

        def answer(self, found):
            body = json.dumps(found).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_port}"
    try:
        monkeypatch.setattr(probe, "CONNECT_TIMEOUT_S", 0.2)
        assert probe.read_store(uri, "slow", "p-me") == probe.StoreState("7", frozenset({"k1", "k2"}))
        monkeypatch.setattr(probe, "ANSWER_TIMEOUT_S", 0.2)
        with pytest.raises(TrackingError, match=f"the MLflow server at {uri} does not answer \\(timed out\\)"):
            probe.read_store(uri, "slow", "p-me")
        monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
        monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
        with pytest.raises(ConfigError, match=f"the MLflow server at {uri} refused a request without credentials"):
            probe.read_store(uri, "nndl", "p-me")
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
        with pytest.raises(ConfigError, match="refused the credentials of user 'alice' \\(HTTP 401\\)") as caught:
            probe.read_store(uri, "nndl", "p-me")
        assert "MLFLOW_TRACKING_PASSWORD" in str(caught.value) and "wrong" not in str(caught.value)
    finally:
        server.shutdown()
        server.server_close()
    # Nothing listens there any more: stopped at once, with what to check and how to go on.
    with pytest.raises(TrackingError, match=f"the MLflow server at {uri} does not answer .*Nothing ran. To train now"):
        probe.read_store(uri, "nndl", "p-me")
    assert probe.read_store("sqlite:////tmp/no-such-store.db", "nndl", "p-me") == probe.StoreState(None, frozenset())


def pasted(message: str, before: str, after: str, folder) -> None:
    """Run the command a message prints between `before` and `after` as bash would, pasted."""
    start = message.index(before) + len(before)
    command = message[start:message.index(after, start)]
    result = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"


def test_a_damaged_sqlite_store_is_named_with_its_fix(tmp_path):
    from nndl.tracking.store import ensure_experiment

    tmp_path = tmp_path / "x 项目 dir"
    tmp_path.mkdir()
    database = tmp_path / "mlflow.db"
    uri = f"sqlite:///{database}"
    assert probe.read_store(uri, "nndl", "p-me") == probe.StoreState(None, frozenset())  # no store yet
    ensure_experiment(uri, "nndl")
    state = probe.read_store(uri, "nndl", "p-me", cache=tmp_path / "check.json")
    assert state.experiment_id.isdigit() and state.live_keys == frozenset()
    assert probe.read_store(uri, "nndl", "p-me", cache=tmp_path / "check.json") == state  # checked once
    database.write_bytes(database.read_bytes()[:4096])
    with pytest.raises(TrackingError, match=f"{database} is not a readable MLflow store .*Move it aside") as raised:
        probe.read_store(uri, "nndl", "p-me", cache=tmp_path / "check.json")
    pasted(str(raised.value), "Move it aside (", ") and run", tmp_path)  # a path with a space and Chinese characters
    assert not database.exists() and database.with_name("mlflow.db.damaged").exists()


def test_a_store_of_another_mlflow_version_is_named_with_the_command_that_upgrades_it(tmp_path):
    """Found read-only where the workflow is parsed, before MLflow would fail in a job; the printed
    command pastes as printed and upgrades it."""
    from conftest import empty_store
    from nndl.tracking.local_store import revisions

    head, known = revisions()
    folder = tmp_path / "x 项目 dir"
    folder.mkdir()
    database = folder / "mlflow.db"
    database.write_bytes(empty_store())
    uri = f"sqlite:///{database}"
    assert probe.read_store(uri, "nndl", "p-me") == probe.StoreState(None, frozenset())
    older = "0584bdc529eb" if "0584bdc529eb" in known and "0584bdc529eb" != head else sorted(known - {head})[0]
    with closing(sqlite3.connect(database)) as store, store:
        store.execute("UPDATE alembic_version SET version_num = ?", (older,))
    with pytest.raises(TrackingError, match=f"has the schema of an older MLflow \\({older}; this one needs {head}\\)") \
            as raised:
        probe.read_store(uri, "nndl", "p-me")
    assert f"db upgrade {shlex.quote(uri)}, then run snakemake again" in str(raised.value)
    with closing(sqlite3.connect(database)) as store, store:
        store.execute("UPDATE alembic_version SET version_num = ?", ("a-newer-one",))
    with pytest.raises(TrackingError, match="has a schema this MLflow does not know \\(a-newer-one"):
        probe.read_store(uri, "nndl", "p-me")


def test_text_that_reads_as_a_number_is_taken_as_meant():
    """YAML 1.1's `1e-1` (text) and Snakemake's --config values (text inside lists and mappings) are
    read by the schema's types; text that is no number is left for the schema to refuse."""
    config = small_config(**{"linreg.learning_rate": "1e-1", "seeds": ["0", "1"], "softmax.epochs": "5",
                             "softmax.shuffle": "false", "data.fashion_mnist.local_dir": "null",
                             "data.fashion_mnist.generate": {"train": "2000", "test": "500", "seed": "0"}})
    config["studies"] = [{"name": "s", "question": "q?", "task": "softmax", "vary": {"learning_rate": ["3e-2", "1"]},
                          "set": {"pixel_scale": "1"}},
                         {"name": "t", "question": "q?", "task": "softmax", "vary": {"pixel_scale": ["1/255", "1"]}}]
    valid = config_module.validate(config, SCHEMA)
    assert valid["linreg"]["learning_rate"] == 0.1 and valid["seeds"] == [0, 1]
    assert valid["softmax"]["epochs"] == 5 and valid["softmax"]["shuffle"] is False
    assert valid["data"]["fashion_mnist"]["local_dir"] is None
    assert valid["data"]["fashion_mnist"]["generate"] == {"train": 2000, "test": 500, "seed": 0}
    assert valid["studies"][0]["vary"]["learning_rate"] == [0.03, 1] and valid["studies"][0]["set"]["pixel_scale"] == 1
    assert valid["studies"][1]["vary"]["pixel_scale"] == ["1/255", 1]
    assert valid["device"] == "auto"  # text where text is meant stays text
    for malformed in ({"vary": ["learning_rate"]}, {"vary": {"learning_rate": [0.1]}, "set": [1]}):
        bad = small_config()
        bad["studies"] = [{"name": "s", "question": "q?", "task": "softmax", **malformed}]
        with pytest.raises(ConfigError, match="study 's' \\(studies\\[0\\]\\): key '(vary|set)'"):
            config_module.validate(bad, SCHEMA)
    lists = small_config()
    lists["studies"] = [{"name": "w", "question": "q?", "task": "linreg", "vary": {"true_w": [["2", "-3.4"]]}}]
    assert config_module.validate(lists, SCHEMA)["studies"][0]["vary"]["true_w"] == [[2, -3.4]]
    with pytest.raises(ConfigError, match="config key 'softmax.learning_rate': '0,1' is not of type 'number'; "
                                          "write a plain number there, like 0.1 or 1.0e-1"):
        config_module.validate(small_config(**{"softmax.learning_rate": "0,1"}), SCHEMA)
    with pytest.raises(ConfigError, match="config key 'seeds.0': '0.5' is not of type 'integer'; "
                                          "write a plain number there, like 3"):
        config_module.validate(small_config(seeds=["0.5"]), SCHEMA)


def test_a_list_that_must_hold_a_value_says_which():
    with pytest.raises(ConfigError, match="config key 'figures.formats': must include 'png' \\(it lists \\['svg'\\]\\)"):
        config_module.validate(small_config(**{"figures.formats": ["svg"]}), SCHEMA)


@pytest.mark.parametrize("values", [[1, 1.0], [0.1, 1e-1], ["1", 1.0]])
def test_values_equal_as_numbers_are_one_grid_point(values):
    config = small_config()
    config["studies"] = [{"name": "s", "question": "q?", "task": "linreg", "vary": {"learning_rate": values}}]
    with pytest.raises(ConfigError, match="vary.learning_rate lists a value twice \\(values equal as numbers"):
        config_module.validate(config, SCHEMA)
    config["studies"][0]["vary"]["learning_rate"] = [1, 2.0]  # different numbers: two points
    assert config_module.validate(config, SCHEMA)["studies"][0]["vary"]["learning_rate"] == [1, 2.0]


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("softmax:\n  epochs: 3\n learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=f"{path}:3:2: not valid YAML: "):
        config_module.load(path, SCHEMA)
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="a config is a mapping of keys"):
        config_module.load(path, SCHEMA)


def test_the_plan_counts_runs_and_their_cost_without_resolving_them():
    from nndl.runs.plan import check_size, duration, planned_size

    config = config_module.validate(small_config(seeds=[0, 1, 2], tasks=["linreg", "softmax", "mlp"]), SCHEMA)
    config["studies"] = [{"name": "grid", "task": "linreg", "impls": ["scratch"], "seeds": [0, 1],
                          "set": {}, "vary": {"learning_rate": [0.1, 0.2], "epochs": [1, 10]}}]
    from nndl.runs.grid import grid, grid_point, grid_size

    assert [grid_point(config["studies"][0], i) for i in range(grid_size(config["studies"][0]))] == \
        grid(config["studies"][0])
    rows = planned_size(config)
    assert [(what, runs) for what, runs, _ in rows] == [("default runs", 18), ("study 'grid'", 8)]
    resolved = resolve_runs(config)
    assert len(resolved) == 26
    assert rows[1][2] == pytest.approx(sum(chunks.spec_seconds(spec) for spec in resolved[18:]))
    assert rows[0][2] == pytest.approx(sum(chunks.spec_seconds(spec) for spec in resolved[:18]))
    log = io.StringIO()
    assert check_size(config, log) == 26 and "the config plans 26 runs" in log.getvalue()
    config["max_runs"] = 25
    with pytest.raises(ConfigError, match="the config plans 26 runs \\(default runs: 18\\).*max_runs is 25.*"
                                          "--config max_runs=26"):
        check_size(config, io.StringIO())
    assert [duration(s) for s in (0.2, 100, 130, 7300, 200_000)] == ["1 s", "100 s", "2.2 min", "2.0 h", "2.3 days"]


def test_the_project_identity_is_made_once_and_kept(tmp_path):
    from nndl.runs.project import project_identity

    project = tmp_path / "project"
    made = project_identity(project, io.StringIO())
    assert made.startswith("p-") and len(made) == 14
    assert project_identity(project, io.StringIO()) == made  # kept
    assert project_identity(tmp_path / "clone", io.StringIO()) != made  # another project
    path = project / ".nndl" / "project.json"
    assert sorted(entry.name for entry in path.parent.iterdir()) == [".project.json.lock", "project.json"]
    path.write_text("{not json")
    assert not (project / names.PROJECT_SPARE).parent.exists()  # no results yet: no spare (nothing else made)
    quoted = shlex.quote(str(path))
    with pytest.raises(ConfigError, match=re.escape(f"{path} is not this project's identity file") + ".*"
                       + re.escape(f"mv {quoted} {shlex.quote(f'{path}.damaged')}")):
        project_identity(project, io.StringIO())


def test_a_copy_is_a_project_of_its_own_and_a_move_the_same_one(tmp_path):
    """cp -a: the original still holds the identity (or the copy's .nndl/ is another folder on the
    same file system): a new identity, said in one line. mv: the same identity, said too. A lost or
    damaged .nndl/ is read back from the spare beside the runs."""
    from nndl.runs.project import keep_spare, project_identity

    def identity(folder) -> tuple[str, str]:
        said = io.StringIO()
        return project_identity(folder, said), said.getvalue()

    first, said = identity(tmp_path / "A")
    assert said == "" and not (tmp_path / "A" / "results").exists()
    keep_spare(tmp_path / "A")  # the jobs ended, but made no run: no spare, no results/
    assert not (tmp_path / "A" / "results").exists()
    record = tmp_path / "A" / names.run_dir("linreg", "scratch", 0, "k") / names.RECORD
    record.parent.mkdir(parents=True)
    record.write_text("{}")
    keep_spare(tmp_path / "A")  # a complete run: the spare goes beside it
    assert json.loads((tmp_path / "A" / names.PROJECT_SPARE).read_text())["id"] == first
    assert identity(tmp_path / "A") == (first, "")
    shutil.copytree(tmp_path / "A", tmp_path / "B 项目", symlinks=True)
    copied, said = identity(tmp_path / "B 项目")
    assert copied != first and said.startswith(f"nndl: this folder is a copy of {tmp_path / 'A'} (project {first})")
    assert identity(tmp_path / "B 项目") == (copied, "") and identity(tmp_path / "A") == (first, "")
    (tmp_path / "A").rename(tmp_path / "C")
    assert identity(tmp_path / "C") == (first, f"nndl: this project moved here from {tmp_path / 'A'}: it is the "
                                               f"same project ({first})\n")
    shutil.rmtree(tmp_path / "C" / ".nndl")
    found, said = identity(tmp_path / "C")
    assert found == first and f"{names.PROJECT_FILE} was missing: this project's identity ({first}) is read back" in said
    (tmp_path / "C" / names.PROJECT_FILE).write_text("{not json")
    found, said = identity(tmp_path / "C")
    assert found == first and f"{names.PROJECT_FILE} was damaged" in said
    # Copied, then the original moved away before the copy's first run: its .nndl/ is another folder.
    shutil.copytree(tmp_path / "C", tmp_path / "D", symlinks=True)
    (tmp_path / "C").rename(tmp_path / "E")
    assert identity(tmp_path / "D")[0] not in (first, copied)
    assert identity(tmp_path / "E")[0] == first
    # Both copies of the identity gone while runs are complete (the one made above, moved with its
    # project to E): a new project, and the message says so.
    shutil.rmtree(tmp_path / "E" / ".nndl")
    (tmp_path / "E" / names.PROJECT_SPARE).unlink()
    found, said = identity(tmp_path / "E")
    assert found != first and "this project's identity was lost" in said and "recorded under it" in said
