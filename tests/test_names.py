"""What a user sees of the runs in `mlflow ui`: a study run named for what differs first (its full
name in a tag, its spec, folder and key as they were), a description on every run, each logged
model named for its run with its source, params and final metrics (each with its data set), the
training and the test data set on every run, and one scheme of version tags.

The MLflow side is real: chunks trained in this process (as tests/test_chunks.py does) into a
sqlite store, read back with MLflow's client."""

import hashlib
import zipfile
from dataclasses import dataclass

import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from conftest import SCHEMA, empty_store, make_data, run_chunk, run_id, small_config
from nndl.config.validate import validate
from nndl.files import read_json
from nndl.runs import names, record
from nndl.runs.plan import resolve_runs
from nndl.tasks.registry import TASKS
from nndl.tasks.runspec import RunSpec
from nndl.tracking import tags
from nndl.tracking.logged_model import model_name
from nndl.tracking.tags import FULL_NAME_TAG
from nndl.tracking.recording import TESTING, TRAINING, measured_on, run_params

STUDY = {"name": "softmax-lr", "question": "Which learning rate?", "task": "softmax", "impls": ["concise"],
         "vary": {"learning_rate": [0.1, 0.3]}, "seeds": [1]}


def specs_of(*studies) -> list[RunSpec]:
    return resolve_runs(validate({**small_config(), "studies": list(studies)}, SCHEMA))


# --- names, without training ----------------------------------------------------------------------

def test_a_study_runs_mlflow_name_says_what_differs_first_and_its_spec_stays():
    """The MLflow name is made beside the spec, never in it: the spec's name (hashed into the run's
    key) and its folder are the full ones, as before."""
    studied = [spec for spec in specs_of(STUDY) if spec.study]
    assert [spec.name for spec in studied] == ["softmax-lr/softmax-concise/learning_rate=0.1/seed1",
                                               "softmax-lr/softmax-concise/learning_rate=0.3/seed1"]
    assert [names.study_run_title(spec.study.point, spec.impl, spec.seed) for spec in studied] == [
        "lr=0.1 · s1 · concise", "lr=0.3 · s1 · concise"]


def test_a_grid_of_several_settings_names_each_shortened_in_the_order_of_vary():
    grid = {"name": "grid", "question": "?", "task": "softmax", "impls": ["scratch", "concise"],
            "vary": {"batch_size": [64], "learning_rate": [0.03]}, "seeds": [0]}
    data = {"name": "data", "question": "?", "task": "linreg", "impls": ["scratch"],
            "vary": {"n_train": [5], "seed": [2]}, "seeds": [0]}
    titles = [names.study_run_title(spec.study.point, spec.impl, spec.seed) for spec in specs_of(grid, data)
              if spec.study]
    assert titles == ["bs=64 · lr=0.03 · s0 · scratch", "bs=64 · lr=0.03 · s0 · concise",
                      "n_train=5 · data_seed=2 · s0 · scratch"]
    assert all(len(title) <= 40 for title in titles)


def test_a_metric_names_the_data_it_was_measured_on_and_a_model_name_is_one_mlflow_takes():
    assert [measured_on(metric) for metric in ("final/test_accuracy", "test/class_accuracy/0-t_shirt_top",
                                               "untrained/test_loss", "final/train_loss", "train_seconds",
                                               "final/max_abs_w_error", "evaluate_seconds")] == [
        TESTING, TESTING, TESTING, TRAINING, TRAINING, None, None]
    assert model_name("softmax-concise-seed0") == "softmax-concise-seed0"
    assert model_name("lr=0.3 · s1 · concise") == "lr=0-3 · s1 · concise"


# --- a small project's runs in a real store -----------------------------------------------------------

@dataclass
class Recorded:
    uri: str
    client: MlflowClient
    runs: list[RunSpec]  # the default runs of linreg and softmax, then the study's
    parent: str  # the study's parent run id

    def run(self, spec: RunSpec):
        return self.client.get_run(run_id(spec))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Recorded:
    """linreg's and softmax's default runs (seed 0) and a softmax study, each group one chunk."""
    folder = tmp_path_factory.mktemp("names")
    (folder / "mlflow.db").write_bytes(empty_store())
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        raw = {**small_config(), "tasks": ["linreg", "softmax"], "studies": [STUDY]}
        make_data(raw)
        runs = resolve_runs(validate(raw, SCHEMA))
        for task in ("linreg", "softmax"):
            run_chunk([spec for spec in runs if spec.task == task and not spec.study], f"{task}.json")
        manifest = run_chunk([spec for spec in runs if spec.study], "study.json")
        yield Recorded(uri, MlflowClient(tracking_uri=uri), runs, manifest["study_parents"]["softmax-lr"])


@pytest.mark.e2e
def test_study_runs_are_named_for_what_differs_under_their_parent_with_the_full_name_in_a_tag(recorded):
    children = recorded.client.search_runs([recorded.client.get_run(recorded.parent).info.experiment_id],
                                           f"tags.`{tags.PARENT_TAG}` = '{recorded.parent}'")
    assert recorded.client.get_run(recorded.parent).info.run_name == "study: softmax-lr"
    assert sorted(child.info.run_name for child in children) == ["lr=0.1 · s1 · concise", "lr=0.3 · s1 · concise"]
    for spec in recorded.runs:
        found = recorded.run(spec)  # found by its key, as the pipeline finds it
        assert found.data.tags[FULL_NAME_TAG] == spec.name and found.data.tags[tags.RUN_KEY_TAG] == \
            record.read(spec.dir).key
        assert found.info.run_name == (names.study_run_title(spec.study.point, spec.impl, spec.seed) if spec.study
                                       else spec.name)  # 'softmax-scratch-seed0' as before
    assert {child.data.tags[FULL_NAME_TAG] for child in children} == {spec.name for spec in recorded.runs if spec.study}


@pytest.mark.e2e
def test_every_run_has_a_one_line_description(recorded):
    for spec in recorded.runs:
        description = recorded.run(spec).data.tags[tags.DESCRIPTION_TAG]
        assert description and "\n" not in description, spec.name
    study_run = recorded.run(recorded.runs[-1])
    assert study_run.data.tags[tags.DESCRIPTION_TAG] == ("Study softmax-lr: learning_rate=0.3, seed 1; Softmax "
                                                         "regression on generated stand-in data (concise).")


@pytest.mark.e2e
def test_each_logged_model_is_named_for_its_run_with_its_source_params_and_final_metrics(recorded):
    experiment_id = recorded.client.get_experiment_by_name("chunks").experiment_id
    models = {model.name: model for model in recorded.client.search_logged_models([experiment_id])}
    assert sorted(models) == ["linreg-concise-seed0", "softmax-concise-seed0"]  # study runs keep model.pt only
    for spec in [spec for spec in recorded.runs if spec.name in models]:
        run = recorded.run(spec)
        model = recorded.client.get_logged_model(models[spec.name].model_id)
        assert model.source_run_id == run.info.run_id
        assert model.tags[tags.SOURCE_TAG] == "tests" == run.data.tags[tags.SOURCE_TAG]  # the job's source, as the run's
        assert model.tags[tags.DESCRIPTION_TAG] == run.data.tags[tags.DESCRIPTION_TAG]
        assert model.params == {key: str(value) for key, value in run_params(spec).items()} == run.data.params
        linked = {metric.key: metric for metric in model.metrics}
        assert set(TASKS[spec.task].metrics) <= set(linked) and "untrained/test_loss" not in linked
        assert all(run.data.metrics[key] == metric.value for key, metric in linked.items())  # the run's too
        datasets = by_context(run)
        for key, metric in linked.items():
            data = datasets.get(measured_on(key))
            assert (metric.dataset_name, metric.dataset_digest) == ((data.name, data.digest) if data else (None, None))
        assert linked["final/test_loss"].dataset_name.endswith("-test")


def by_context(run) -> dict:
    """{context: dataset} of a run's data sets."""
    return {next(tag.value for tag in item.tags if tag.key == MLFLOW_DATASET_CONTEXT): item.dataset
            for item in run.inputs.dataset_inputs}


@pytest.mark.e2e
def test_every_run_has_its_training_and_its_test_data_set(recorded):
    for spec in recorded.runs:
        run = recorded.run(spec)
        datasets = by_context(run)
        assert sorted(datasets) == [TESTING, TRAINING] and len(run.inputs.dataset_inputs) == 2, spec.name
        training, testing = datasets[TRAINING], datasets[TESTING]
        assert testing.name == f"{training.name}-test" and testing.digest == split_digest(spec)
        assert training.digest == record.read(spec.dir).data_digest  # the run key's, as it was
        assert testing.digest != training.digest and testing.source == training.source


def split_digest(spec: RunSpec) -> str:
    """The test split's checksum computed here from the files: Fashion-MNIST's test files, the
    synthetic arrays' X_test and y_test."""
    digest = hashlib.sha256()
    if spec.task == "linreg":
        with zipfile.ZipFile(spec.data.path) as archive:
            digest.update(archive.read("X_test.npy") + archive.read("y_test.npy"))
    else:
        manifest = read_json(spec.data.manifest)
        for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            digest.update(manifest[name]["sha256_decompressed"].encode())
    return digest.hexdigest()[:16]


@pytest.mark.e2e
def test_versions_are_tagged_once_in_one_scheme(recorded):
    run_tags = recorded.run(recorded.runs[0]).data.tags
    versions = {key for key in run_tags if "version" in key and not key.startswith("mlflow.")}
    assert {"version.python", "version.torch", "version.mlflow", "version.snakemake"} <= versions
    assert all(key.startswith("version.") for key in versions), versions  # no torch_version, python_version
