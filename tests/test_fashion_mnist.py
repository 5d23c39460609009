"""Acquisition and verification of the real Fashion-MNIST files, and the generated stand-in."""

import gzip
import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SYSTEM_FASHION_MNIST, needs_system_fashion_mnist
from http_mirrors import MirrorServer, dead_url
from nndl.data import acquire as acquire_module
from nndl.data import fashion_mnist, idx
from nndl.data.acquire import acquire as acquire_files
from nndl.data.stand_in import generate_stand_in
from nndl.errors import DataError


def acquire(destination, **sources):
    arguments = {"local_dir": None, "system_dir": None, "mirrors": [], "retries": 1, "timeout_s": 5}
    arguments.update(sources)
    log = io.StringIO()
    manifest = acquire_files(destination, log=log, **arguments)
    return manifest, log.getvalue()


@needs_system_fashion_mnist
def test_system_copy_is_acquired_and_verified(tmp_path):
    manifest, log = acquire(tmp_path / "out", system_dir=str(SYSTEM_FASHION_MNIST))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(fashion_mnist.FILE_NAMES)
    assert all(entry["source"].startswith(str(SYSTEM_FASHION_MNIST)) for entry in manifest.values())
    assert log.count("verified") == 4
    images, labels = fashion_mnist.load_split(tmp_path / "out", "test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))


@pytest.fixture
def corrupted_local_dir(tmp_path):
    """The real files, with one training image changed by one pixel (valid gzip, wrong data)."""
    if not SYSTEM_FASHION_MNIST.exists():
        pytest.skip("needs Debian's dataset-fashion-mnist")
    local = tmp_path / "local"
    shutil.copytree(SYSTEM_FASHION_MNIST, local)
    raw = bytearray(gzip.decompress((local / "train-images-idx3-ubyte.gz").read_bytes()))
    raw[5000] ^= 0x01
    (local / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(raw), compresslevel=1))
    return local


def test_corrupted_local_file_names_file_source_and_both_hashes(corrupted_local_dir, tmp_path):
    destination = tmp_path / "out"
    with pytest.raises(DataError) as caught:
        acquire(destination, local_dir=str(corrupted_local_dir), system_dir=str(SYSTEM_FASHION_MNIST))
    message = str(caught.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "data.fashion_mnist.local_dir" in message and str(corrupted_local_dir) in message
    assert fashion_mnist.FILES["train_images"].sha256 in message
    actual = [line for line in message.splitlines() if "decompressed bytes is" in line][0].split()[-1]
    assert len(actual) == 64 and actual != fashion_mnist.FILES["train_images"].sha256
    assert not destination.exists() or list(destination.iterdir()) == []


def test_truncated_local_file_is_reported(tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    full = gzip.compress(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    (local / "train-images-idx3-ubyte.gz").write_bytes(full[: len(full) // 2])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz from data.fashion_mnist.local_dir .*"
                                        "not a complete gzip file"):
        acquire(tmp_path / "out", local_dir=str(local))
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@needs_system_fashion_mnist
def test_a_local_folder_of_uncompressed_files_is_verified_and_compressed(tmp_path):
    """The four files as `zcat` leaves them (no .gz): verified by the same checksums, kept gzipped."""
    local = tmp_path / "local"
    local.mkdir()
    for name in fashion_mnist.FILE_NAMES:
        (local / name.removesuffix(".gz")).write_bytes(gzip.decompress((SYSTEM_FASHION_MNIST / name).read_bytes()))
    manifest, log = acquire(tmp_path / "out", local_dir=str(local))
    assert all(entry["source"] == str(local / name.removesuffix(".gz")) for name, entry in manifest.items())
    for name in fashion_mnist.FILE_NAMES:
        assert gzip.decompress((tmp_path / "out" / name).read_bytes()) == (local / name.removesuffix(".gz")).read_bytes()
    # A second acquisition keeps what is verified, whatever the sources say now.
    manifest, log = acquire(tmp_path / "out", local_dir=str(tmp_path / "gone"))
    assert log.count("verified, kept") == 4


def test_a_damaged_copy_is_replaced_only_by_a_verified_file(tmp_path):
    """A truncated file in the destination is said and fetched again; a source that fails leaves
    the other files as they were."""
    if not SYSTEM_FASHION_MNIST.exists():
        pytest.skip("needs Debian's dataset-fashion-mnist")
    out = tmp_path / "out"
    acquire(out, system_dir=str(SYSTEM_FASHION_MNIST))
    damaged = out / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz could not be found in any source"):
        acquire(out, system_dir=str(tmp_path / "nowhere"))
    assert sorted(p.name for p in out.iterdir()) == sorted(fashion_mnist.FILE_NAMES)  # nothing deleted
    manifest, log = acquire(out, system_dir=str(SYSTEM_FASHION_MNIST))
    assert "t10k-labels-idx1-ubyte.gz: the file in" in log and "is not the verified one (cannot decompress" in log
    assert log.count("verified, kept") == 3
    assert damaged.read_bytes() == (SYSTEM_FASHION_MNIST / damaged.name).read_bytes()


def test_no_source_lists_what_was_tried_and_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(acquire_module, "DEBIAN_COPY", str(tmp_path / "not-installed"))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "train-images.idx3-ubyte.gz").write_bytes(b"x")  # a near miss of the right name
    with pytest.raises(DataError) as caught:
        acquire(tmp_path / "out", local_dir=str(empty), system_dir=str(tmp_path / "nowhere"),
                mirrors=[dead_url()])
    message = str(caught.value)
    assert "data.fashion_mnist.local_dir" in message and "does not exist" in message
    assert "rename to train-images-idx3-ubyte.gz" in message
    assert "the folder does not exist" in message
    assert "download mirrors" in message and "127.0.0.1" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_a_switched_off_system_copy_is_told_from_a_missing_one(tmp_path, monkeypatch):
    installed = tmp_path / "debian"
    installed.mkdir()
    for name in fashion_mnist.FILE_NAMES:
        (installed / name).write_bytes(b"")
    monkeypatch.setattr(acquire_module, "DEBIAN_COPY", str(installed))
    with pytest.raises(DataError) as caught:
        acquire(tmp_path / "out", system_dir=None)
    message = str(caught.value)
    assert "the system copy (data.fashion_mnist.system_dir): switched off (null in the config)" in message
    assert f"installed here but switched off in the config (data.fashion_mnist.system_dir: null): " \
           f"set system_dir: {installed}" in message
    assert "apt-get install" not in message


def test_the_schema_defaults_to_debians_copy():
    import yaml

    from conftest import SCHEMA

    schema = yaml.safe_load(SCHEMA.read_text())
    default = schema["properties"]["data"]["properties"]["fashion_mnist"]["properties"]["system_dir"]["default"]
    assert default == acquire_module.DEBIAN_COPY == str(SYSTEM_FASHION_MNIST)


@needs_system_fashion_mnist
def test_download_from_mirrors_verifies_decompressed_bytes(tmp_path):
    files = {name: (SYSTEM_FASHION_MNIST / name).read_bytes() for name in fashion_mnist.FILE_NAMES}
    with MirrorServer(files) as server:
        manifest, log = acquire(tmp_path / "out", mirrors=[server.url("corrupt"), server.url("good")])
    assert all(entry["source"].startswith(server.url("good")) for entry in manifest.values())
    for name in fashion_mnist.FILE_NAMES:
        assert (tmp_path / "out" / name).read_bytes() == files[name]
    # The corrupt mirror was tried, its file rejected (its first bytes changed: no gzip header), and
    # the next one used.
    assert log.count("is not gzip-compressed") == len(fashion_mnist.FILE_NAMES)
    assert log.count("trying the next mirror") == len(fashion_mnist.FILE_NAMES)


def test_stand_in_is_deterministic_and_loads(tmp_path):
    first = generate_stand_in(tmp_path / "a", 100, 30, seed=3)
    second = generate_stand_in(tmp_path / "b", 100, 30, seed=3)
    other = generate_stand_in(tmp_path / "c", 100, 30, seed=4)
    assert first == second and first != other
    for name in fashion_mnist.FILE_NAMES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    images, labels = fashion_mnist.load_split(tmp_path / "a", "train")
    assert images.shape == (100, 28, 28) and labels.shape == (100,) and labels.max() < 10


def test_loader_rejects_mismatched_counts(tmp_path):
    generate_stand_in(tmp_path, 20, 10, seed=0)
    idx.write_idx_gz(np.zeros(19, dtype=np.uint8), tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DataError, match="20 train images but 19 labels"):
        fashion_mnist.load_split(tmp_path, "train")


def test_loader_names_a_file_with_bad_magic(tmp_path):
    generate_stand_in(tmp_path, 20, 10, seed=0)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[2] = 9
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: bad magic number"):
        fashion_mnist.load_split(tmp_path, "test")


def test_a_damaged_file_read_by_a_job_names_the_file_and_the_fix(tmp_path):
    generate_stand_in(tmp_path, 20, 10, seed=0)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-7]))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: wrong length.*The copy in .* is damaged: run "
                                        "snakemake again, and its data step notices the file and replaces it"):
        fashion_mnist.load_split(tmp_path, "test")


def test_the_workflow_check_of_the_copy(tmp_path, monkeypatch):
    """Where the workflow is parsed: a copy as verified leaves the check file dated 1970; a damaged
    or missing file rewrites it and is said; checksums are taken again only for a changed file."""
    import os

    from nndl.data import checks, verify
    from nndl.files import write_json

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "resources" / "small"
    write_json(generate_stand_in(folder, 20, 10, seed=0), folder / "manifest.json")
    log = io.StringIO()
    check = Path(checks.check_copy("resources/small/manifest.json", log))
    assert check.stat().st_mtime == 0 and log.getvalue() == ""
    hashed = []
    monkeypatch.setattr(checks, "damage", lambda path, sha: hashed.append(path.name) or verify.damage(path, sha))
    checks.check_copy("resources/small/manifest.json", log)
    assert hashed == []  # sizes and times as when they matched
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:30])
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    assert checks.check_copy("resources/small/manifest.json", log) == str(check)
    assert hashed == ["t10k-labels-idx1-ubyte.gz"] and check.stat().st_mtime > 0
    said = log.getvalue()
    assert "nndl: resources/small/t10k-labels-idx1-ubyte.gz is damaged (cannot decompress" in said
    assert "nndl: resources/small/train-labels-idx1-ubyte.gz is missing" in said
    # Another data folder has its own check file: a problem here plans no other folder's data step.
    assert checks.check_copy("resources/other/manifest.json") != str(check)
    (folder / "manifest.json").write_text("{")
    os.utime(check, (0, 0))
    checks.check_copy("resources/small/manifest.json", log)
    assert "manifest.json cannot be read" in log.getvalue() and check.stat().st_mtime > 0
