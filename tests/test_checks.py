"""What the workflow says of a finished chunk's runs where it is parsed (nndl.runs.checks): a run
that never had a folder is new, one whose folder went is deleted, one that lost a file is missing it."""

import io
import json
from pathlib import Path

from conftest import spec_for
from nndl.runs import names
from nndl.runs.checks import check_path, check_run_files
from nndl.tracking.probe import StoreState


def test_a_new_run_is_new_a_deleted_folder_deleted_and_a_lost_file_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    chunk = {"group": "softmax", "part": 0, "parts": 1}
    deleted, emptied = spec_for("softmax", "scratch"), spec_for("softmax", "concise")
    added = [spec_for("softmax", "scratch", learning_rate=0.5), spec_for("softmax", "concise", learning_rate=0.5)]
    manifest = Path(names.chunk_manifest(chunk))
    manifest.parent.mkdir(parents=True)
    # The chunk's job made two runs; one folder was deleted since, the other lost its files.
    manifest.write_text(json.dumps({"runs": [{"name": spec.name, "dir": spec.dir, "trained": True}
                                             for spec in (deleted, emptied)]}))
    Path(emptied.dir).mkdir(parents=True)
    said = io.StringIO()
    reasons = check_run_files([(chunk, [deleted, emptied, *added])], StoreState(None, None), "the store", said)
    assert reasons == [
        f"{deleted.dir}: its folder was deleted: that run is trained again (the chunk's other runs are complete "
        "and kept)",
        f"{emptied.dir}: a file is missing or not as its record (complete.json) says (complete.json is missing or "
        "unreadable): that run is trained again (the chunk's other runs are complete and kept)"]
    lines = said.getvalue().splitlines()
    assert lines[0] == f"nndl: 2 new runs ({added[0].dir} and 1 more): their chunks' jobs train them"
    assert lines[1:] == [f"nndl: {reason}" for reason in reasons] and "missing" not in lines[0]
    assert all(spec.dir in Path(check_path(chunk)).read_text() for spec in (deleted, emptied, *added))
