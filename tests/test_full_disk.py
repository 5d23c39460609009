"""A full disk for real (a tiny tmpfs, mounted as root) while the report is written and under the
MLflow store while a chunk job records its runs: one message naming the folder and what was kept,
no traceback, nothing half-written, and once there is room the plain rerun finishes the work
without training. One small finished project for the module."""

import subprocess
from pathlib import Path

import pytest

from conftest import Workflow, empty_store, output_of, two_task_config
from mlflow_store import forget_stores, statuses_by_name

pytestmark = pytest.mark.e2e
CHUNK = "results/chunks/softmax-0-of-1.json"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Workflow:
    workflow = Workflow(tmp_path_factory.mktemp("full-disk") / "project")
    workflow.write_config(two_task_config())
    workflow.run()
    return workflow


class SmallDisks:
    """Tiny tmpfs mounts for one test: `mount(folder, size)`, `grow(folder, size)` (space freed),
    `unmount(folder)`; whatever is still mounted is unmounted when the test ends, whatever happened."""

    def __init__(self):
        self.mounted: list[Path] = []

    def mount(self, folder: Path, size: str) -> Path:
        tried = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                               capture_output=True, text=True)
        if tried.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here ({tried.stderr.strip()}): run as root (CI does)")
        self.mounted.append(folder)
        return folder

    def grow(self, folder: Path, size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)

    def unmount(self, folder: Path) -> None:
        self.mounted.remove(folder)
        subprocess.run(["umount", str(folder)], check=True)

    def unmount_all(self) -> None:
        """Unmount what is still mounted; one still in use (a file open) is detached now and freed
        when closed (umount --lazy), so no mount outlives the test."""
        forget_stores()  # MLflow's cached stores keep their sqlite files open
        for folder in reversed(self.mounted):
            if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "--lazy", str(folder)], check=True)
        self.mounted.clear()


@pytest.fixture
def small_disks():
    disks = SmallDisks()
    try:
        yield disks
    finally:
        disks.unmount_all()


def full_messages(output: str, words: str) -> list[str]:
    """The lines of Snakemake's output that say `words`: the job's message, then the same line again
    where Snakemake shows the job's log (show-failed-logs, profiles/default)."""
    lines = [line for line in output.splitlines() if words in line]
    assert len(lines) == 2 and len(set(lines)) == 1, lines
    return lines


def test_a_full_disk_while_the_report_is_written_is_one_message_and_the_rerun_writes_it(finished, small_disks):
    report = finished.path("results/report")
    for path in report.iterdir():
        path.unlink()  # Snakemake deletes a job's outputs before it runs it: nothing old to keep here
    small_disks.mount(report, "700k")
    (report / "notes.txt").write_bytes(bytes(600_000))  # the disk nearly full of other things
    result = finished.run("--forcerun", "summary_report", check=False)
    left = sorted(path.name for path in report.iterdir())  # hidden ones too: .part files, scratch folders
    small_disks.unmount(report)

    output = output_of(result)
    assert result.returncode != 0 and left == ["notes.txt"], output  # nothing half-written, nothing else
    folder = report.resolve()
    (message, _) = full_messages(output, "is full")
    assert message.startswith(f"ERROR: the disk holding {folder} is full (No space left on device). Free space "
                              f"there (df -h {folder} shows how much is left")
    assert "Nothing was half-written: what this job was writing is not there, and everything written before " \
           "(complete runs, other results) is kept" in message
    assert "Traceback" not in output and "Traceback" not in finished.path("logs/report/summary.log").read_text()

    rerun = finished.run()  # room again: the plain rerun writes the report, and only it
    assert "rule summary_report" in rerun.stdout + rerun.stderr
    assert "rule train_chunk" not in rerun.stdout + rerun.stderr and "rule figures" not in rerun.stdout + rerun.stderr
    html = finished.path("results/report/summary.html").read_text()
    assert html.rstrip().endswith("</html>") and finished.path("results/report/summary.ipynb").stat().st_size


def test_a_full_store_while_a_job_records_its_runs_is_one_message_and_the_rerun_records_them(finished, small_disks,
                                                                                              tmp_path):
    """The store on a disk with room for the empty store and 64 kB more: it fills while the chunk
    job records its two complete runs from their files. Today's MLflow logs a traceback per retry
    (an 848-line log); the job stops at the first, says it once, and aborts nothing on its way out."""
    disk = tmp_path / "disk"
    disk.mkdir()
    small_disks.mount(disk, f"{len(empty_store()) // 1024 + 64}k")
    database = disk / "mlflow.db"
    database.write_bytes(empty_store())
    uri = f"sqlite:///{database}"
    env = finished.environment(MLFLOW_TRACKING_URI=uri)
    records = finished.records()
    result = finished.run(CHUNK, check=False, env=env)

    output = output_of(result)
    log = finished.path("logs/train/softmax-0-of-1.log").read_text()
    assert result.returncode != 0 and "SIGABRT" not in output, output
    (message, _) = full_messages(output, "database or disk is full")
    assert message.startswith(f"ERROR: the disk holding the MLflow store {database} is full (sqlite: database or "
                              f"disk is full), so the store records nothing more. Free space there (df -h {disk} ")
    assert "the runs' files are complete and kept (results/runs), and the rerun records in the store what it " \
           "lacks, from those files, without training" in message
    assert log.count("database or disk is full") == 1 and "Traceback" not in output + log
    assert finished.records() == records

    small_disks.grow(disk, "16m")  # space freed
    again = finished.run(CHUNK, env=env)
    assert "[1/2] softmax-scratch-seed0: complete, recorded again from its files" in again.stdout
    assert finished.records() == records  # trained nothing
    assert statuses_by_name(uri, "nndl-small") == {"softmax-scratch-seed0": ["FINISHED"],
                                                   "softmax-concise-seed0": ["FINISHED"]}
