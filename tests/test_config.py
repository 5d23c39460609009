"""The config schema: defaults, typos and bad values, in the package and in real Snakemake."""

import copy

import pytest
import yaml

from conftest import ROOT
from nndl import config as config_module
from nndl.errors import ConfigError

DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def with_value(dotted: str, value):
    config = copy.deepcopy(DEFAULT)
    node = config
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node[key]
    node[leaf] = value
    return config


@pytest.mark.parametrize("name", ["config.yaml", "small.yaml"])
def test_shipped_configs_are_valid(name):
    config = config_module.load(ROOT / "config" / name)
    assert config["softmax"]["epochs"] >= 1


def test_defaults_fill_missing_keys():
    config = config_module.validate({})
    assert config["softmax"] == {"batch_size": 256, "learning_rate": 0.1, "epochs": 10, "init_std": 0.01}
    assert config["linreg"]["learning_rate"] == 0.03
    assert config["synthetic"]["true_w"] == [2.0, -3.4] and config["synthetic"]["true_b"] == 4.2
    assert config["device"] == "auto" and config["seeds"] == [0]


def test_typo_names_the_key():
    config = copy.deepcopy(DEFAULT)
    config["softmax"]["lerning_rate"] = config["softmax"].pop("learning_rate")
    with pytest.raises(ConfigError) as caught:
        config_module.validate(config)
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
    ("softmax.batch_size", "256", "is not of type 'integer'"),
])
def test_bad_values_name_the_key(dotted, value, expected):
    with pytest.raises(ConfigError, match="invalid config") as caught:
        config_module.validate(with_value(dotted, value))
    assert expected in str(caught.value)


def test_config_hash_is_stable_and_sensitive():
    a = config_module.validate(DEFAULT)
    assert config_module.config_hash(a) == config_module.config_hash(copy.deepcopy(a))
    assert config_module.config_hash(a) != config_module.config_hash(with_value("softmax.epochs", 11))


def test_tracking_uri_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert config_module.tracking_uri({"mlflow": {"tracking_uri": None}}, tmp_path) == \
        f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert config_module.tracking_uri({"mlflow": {"tracking_uri": "http://127.0.0.1:5000"}}, tmp_path) == \
        "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:6000")
    assert config_module.tracking_uri({"mlflow": {"tracking_uri": "http://x"}}, tmp_path) == "http://127.0.0.1:6000"


@pytest.mark.parametrize("dotted, value, key", [
    ("softmax.lerning_rate", 0.1, "lerning_rate"),
    ("device", "tpu", "device"),
])
def test_snakemake_stops_before_any_job(workflow, dotted, value, key):
    workflow.write_config(with_value(dotted, value))
    result = workflow.run("--dry-run", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "invalid config" in output and key in output
    assert "Job stats" not in output and not workflow.path("results").exists()
