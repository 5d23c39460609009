"""The one MLflow module: a run ends FINISHED only with its outputs, whatever signal arrives."""

import os
import signal
import threading
import time

import pytest
from mlflow.entities import Dataset, DatasetInput
from mlflow.tracking import MlflowClient

from dispositions import interruptible
from nndl.interrupt import restore, signals_held, terminate_on_signals
from nndl.tracking import ledger, readback, repairs
from nndl.tracking.delivery import Delivery
from nndl.tracking.run import Terminated
from nndl.tracking.run import tracked_run as open_run
from nndl.tracking.store import ensure_experiment


# A fresh sqlite store costs about 10 s (its migrations) on 2 cores: these are e2e tests, sharing one store.
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    ensure_experiment(uri, "finish")
    return uri


class tracked_run:
    """nndl.tracking.run.tracked_run with a Delivery of its own, waited for when the block ends, in
    a job's signal handling (SIGTERM and SIGHUP raise Terminated)."""

    def __init__(self, uri, experiment, name, params, tags, on_created=None):
        self.delivery = Delivery()
        self.opened = open_run(uri, self.delivery, ensure_experiment(uri, experiment), name, params, tags,
                               on_created=on_created)

    def __enter__(self):
        self.handlers = terminate_on_signals()
        return self.opened.__enter__()

    def __exit__(self, *raised):
        try:
            return self.opened.__exit__(*raised)
        finally:
            restore(self.handlers)
            assert self.delivery.wait(60) and self.delivery.refusal is None, self.delivery.refusal


@pytest.mark.parametrize("signum, raised", [(signal.SIGTERM, Terminated), (signal.SIGHUP, Terminated),
                                            (signal.SIGINT, KeyboardInterrupt)])
def test_a_signal_during_finish_is_acted_on_once_the_run_is_finished(store, signum, raised):
    # A live helper thread, as torch and MLflow start: the kernel may hand the signal to it.
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    committed = []

    def commit():
        os.kill(os.getpid(), signum)
        time.sleep(0.2)  # the signal is pending now; the outputs must still be made final
        committed.append("outputs final")

    try:
        with interruptible(), pytest.raises(raised):  # Ctrl-C raises here however pytest was started
            with tracked_run(store, "finish", "run", {"lr": 0.1}, {}) as run, signals_held():
                commit()
                run.finish()
    finally:
        stop.set()
        helper.join()
    assert committed == ["outputs final"]
    assert MlflowClient(tracking_uri=store).get_run(run.run_id).info.status == "FINISHED"


def test_a_signal_before_finish_leaves_the_run_killed(store):
    with pytest.raises(Terminated):
        with tracked_run(store, "finish", "run", {}, {}) as run:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    assert MlflowClient(tracking_uri=store).get_run(run.run_id).info.status == "KILLED"


def test_runs_logging_one_new_dataset_at_once_all_get_it(store):
    """MLflow looks a dataset up, then inserts it: runs logging the same new one at once clash on
    the database's unique key (BAD_REQUEST), and the loser must be tried again, not refused."""
    client = MlflowClient(tracking_uri=store)
    experiment_id = ensure_experiment(store, "datasets")
    delivery = Delivery(lanes=4)
    run_ids = []
    for round_number in range(8):  # a clash comes about once in two rounds of four
        runs = [client.create_run(experiment_id).info.run_id for _ in range(4)]
        run_ids += runs
        all_ready = threading.Barrier(len(runs), timeout=600)  # only a hang reaches it
        dataset = Dataset(name="stand-in", digest=f"digest-{round_number}", source_type="local", source="{}")
        tries = dict.fromkeys(runs, 0)
        for run_id in runs:

            def log_dataset(run_id=run_id, tries=tries, all_ready=all_ready, dataset=dataset):
                tries[run_id] += 1
                if tries[run_id] == 1:
                    all_ready.wait()  # the four first tries at once
                client.log_inputs(run_id, [DatasetInput(dataset)])

            delivery.send(run_id, "log the dataset", log_dataset)
    assert delivery.wait(60) and delivery.refusal is None
    assert all(len(client.get_run(run_id).inputs.dataset_inputs) == 1 for run_id in run_ids)


def test_runs_of_another_store_are_left_out_not_an_error(store, tmp_path):
    other, notes = f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "ledger"
    ensure_experiment(other, "finish")
    noted = ledger.Ledger(notes, "p-me")
    with tracked_run(other, "finish", "elsewhere", {}, {"nndl.run_key": "k", "nndl.project": "p-me"},
                     on_created=lambda run_id: noted.remember("k", run_id)) as run:
        run.finish()
    expected = {"k": {"status": "FINISHED", "tags": {}}}
    found = ledger.runs_by_key(notes, store, "finish", "p-me", ["k"])
    assert repairs.reconcile_runs(store, found, expected, ledger.Superseder(store)) == ({}, [])
    found = ledger.runs_by_key(notes, other, "finish", "p-me", ["k"])
    assert repairs.reconcile_runs(other, found, expected, ledger.Superseder(other)) == ({"k": run.run_id}, [])
    assert ledger.runs_by_key(notes, other, "finish", "p-teammate", ["k"]) == {}  # another project's: not ours
    assert readback.run_summaries(store, "finish", [run.run_id]) == []


def _create(uri, queue):
    from nndl.tracking.store import ensure_experiment

    try:
        queue.put(ensure_experiment(uri, "together"))
    except Exception as error:  # reported to the test, which fails on it
        queue.put(repr(error))


def test_jobs_creating_a_fresh_store_at_once_all_get_the_experiment(tmp_path):
    """Chunk jobs start together and each makes sure the store exists: the first creates it, under
    a lock, and the others wait (unlocked, processes creating a fresh sqlite store at once crash)."""
    import multiprocessing

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_create, args=(uri, queue)) for _ in range(4)]
    for process in processes:
        process.start()
    answers = [queue.get(timeout=600) for _ in processes]  # four imports of MLflow at once: minutes on a busy machine
    for process in processes:
        process.join()
    assert len(set(answers)) == 1 and answers[0].isdigit(), answers


def test_a_signal_held_while_the_commit_fails_still_stops_the_job(store):
    def commit():
        os.kill(os.getpid(), signal.SIGTERM)
        raise OSError("disk full")

    with pytest.raises(Terminated):
        with tracked_run(store, "finish", "run", {}, {}) as run, signals_held():
            commit()
            run.finish()
    assert MlflowClient(tracking_uri=store).get_run(run.run_id).info.status == "KILLED"


def test_the_ledger_finds_runs_by_id_and_catches_up_with_a_store_once(tmp_path):
    uri, notes = f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "ledger"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = ensure_experiment(uri, "ledger")

    def made(key, project="p-me"):  # a run of `project`, its record whole, that no ledger noted
        run_id = client.create_run(experiment_id, tags={"nndl.run_key": key, "nndl.project": project}).info.run_id
        client.set_tag(run_id, "nndl.recorded", "true")
        return run_id

    earlier, teammates = made("k1"), made("k1", "p-teammate")
    # The first lookup in this store notes the project's runs already there (one paged search)...
    assert ledger.run_ids(notes, uri, "ledger", "p-me", ["k1", "k2"]) == {"k1": earlier}
    # ...and later ones read only the runs the ledger notes: an unnoted run is not searched for.
    unnoted = made("k2")
    assert ledger.run_ids(notes, uri, "ledger", "p-me", ["k2"]) == {}
    ledger.Ledger(notes, "p-me").remember("k2", unnoted)
    ledger.Ledger(notes, "p-me").remember("k2", teammates)  # another project's id under this key: left out
    assert ledger.run_ids(notes, uri, "ledger", "p-me", ["k1", "k2"]) == {"k1": earlier, "k2": unnoted}
    client.delete_run(earlier)  # deleted in the UI: no longer a record
    assert ledger.run_ids(notes, uri, "ledger", "p-me", ["k1", "k2"]) == {"k2": unnoted}
    # Another store (a copy of the project whose store moved): caught up once there too.
    other = f"sqlite:///{tmp_path / 'moved.db'}"
    moved = MlflowClient(tracking_uri=other).create_run(
        ensure_experiment(other, "ledger"), tags={"nndl.run_key": "k3", "nndl.project": "p-me",
                                                  "nndl.recorded": "true"}).info.run_id
    assert ledger.run_ids(notes, other, "ledger", "p-me", ["k1", "k2", "k3"]) == {"k3": moved}


def test_the_printed_link_shows_the_live_runs_only(store, tmp_path):
    """The runs page the pipeline prints (nndl.tracking.uri.runs_page), searched as MLflow searches
    it, in this sqlite store and through a server's REST search on it: this project's live whole
    records and its study's parent (which its runs fold under), not the runs a newer record
    superseded (FINISHED, or KILLED while RUNNING, both kept where the user may not delete),
    nor an attempt, nor another project's run."""
    import json
    import socket
    import subprocess
    import sys
    import urllib.parse
    import urllib.request

    from nndl.tracking.studies import study_parent
    from nndl.tracking.tags import PARENT_TAG, PROJECT_TAG, RECORDED_TAG, RUN_KEY_TAG, WHOLE
    from nndl.tracking.uri import runs_page

    client = MlflowClient(tracking_uri=store)
    experiment_id = ensure_experiment(store, "link")

    def made(name, project="p-me", status="FINISHED", **tags):
        run_id = client.create_run(experiment_id, run_name=name, tags={PROJECT_TAG: project, RUN_KEY_TAG: name,
                                                                       **tags}).info.run_id
        if status != "RUNNING":
            client.set_terminated(run_id, status=status)
        return run_id

    parent = study_parent(store, "link", "lr", "tests", "p-me")
    made("live", **{RECORDED_TAG: WHOLE})
    made("child", **{RECORDED_TAG: WHOLE, PARENT_TAG: parent})
    made("theirs", project="p-teammate", **{RECORDED_TAG: WHOLE})
    made("attempt", status="FAILED")  # cut short before its record was whole
    replaced = [client.get_run(made("older", **{RECORDED_TAG: WHOLE})),
                client.get_run(made("in training", status="RUNNING"))]
    edit_user = ledger.Superseder(store)
    edit_user.may_delete = False  # as for a team's EDIT user, who may not delete: the runs stay, marked and ended
    edit_user.supersede(replaced)
    assert [client.get_run(run.info.run_id).info.status for run in replaced] == ["FINISHED", "KILLED"]

    page = runs_page(store, experiment_id, "p-me")
    (search,) = urllib.parse.parse_qs(urllib.parse.urlsplit(page.replace("/#/", "/")).query)["searchFilter"]
    shown = {"live", "child", "study: lr"}
    assert {run.info.run_name for run in client.search_runs([experiment_id], search)} == shown

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store, "--host",
                               "127.0.0.1", "--port", str(port), "--workers", "1"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        address = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while not _answers(f"{address}/health"):
            assert server.poll() is None and time.monotonic() < deadline, "the MLflow server did not start"
            time.sleep(0.1)
        request = urllib.request.Request(f"{address}/api/2.0/mlflow/runs/search", headers={
            "Content-Type": "application/json"}, data=json.dumps({"experiment_ids": [experiment_id],
                                                                  "filter": search}).encode())
        with urllib.request.urlopen(request, timeout=30) as answer:
            found = json.load(answer)["runs"]
        assert {run["info"]["run_name"] for run in found} == shown
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False
