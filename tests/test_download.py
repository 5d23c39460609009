"""The downloader against real HTTP servers on 127.0.0.1."""

import hashlib
import io

import pytest

from http_mirrors import MirrorServer, dead_url
from nndl.data.download import download
from nndl.errors import DataError

CONTENT = bytes(range(256)) * 400
DIGEST = hashlib.sha256(CONTENT).hexdigest()


def verify(path):
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != DIGEST:
        raise DataError(f"checksum {actual} != {DIGEST}")


@pytest.fixture
def server():
    with MirrorServer({"file.bin": CONTENT}) as mirror:
        yield mirror


def fetch(urls, tmp_path, **kwargs):
    log = io.StringIO()
    url = download([u + "file.bin" for u in urls], tmp_path / "file.bin", verify,
                   backoff_s=0.01, timeout_s=5, progress=log, **kwargs)
    return url, log.getvalue()


def test_good_mirror_downloads_and_shows_progress(server, tmp_path):
    url, log = fetch([server.url("good")], tmp_path)
    assert url == server.url("good") + "file.bin"
    assert (tmp_path / "file.bin").read_bytes() == CONTENT
    assert "100%" in log
    assert list(tmp_path.iterdir()) == [tmp_path / "file.bin"]  # no temporary left


def test_falls_back_past_dead_corrupt_and_truncated_mirrors(server, tmp_path):
    mirrors = [dead_url(), server.url("corrupt"), server.url("truncated"), server.url("good")]
    url, log = fetch(mirrors, tmp_path, retries=2)
    assert url.startswith(server.url("good"))
    assert (tmp_path / "file.bin").read_bytes() == CONTENT
    assert server.requests["/corrupt/file.bin"] == 1  # bad content: no point retrying that mirror
    assert server.requests["/truncated/file.bin"] == 2  # a broken transfer is retried


def test_retries_a_flaky_mirror(server, tmp_path):
    url, _ = fetch([server.url("flaky")], tmp_path, retries=3)
    assert url.startswith(server.url("flaky"))
    assert server.requests["/flaky/file.bin"] == 2


def test_all_mirrors_failing_names_each_and_leaves_nothing(server, tmp_path):
    mirrors = [server.url("missing"), server.url("error"), server.url("corrupt"), server.url("truncated")]
    with pytest.raises(DataError) as caught:
        fetch(mirrors, tmp_path, retries=2)
    message = str(caught.value)
    assert "HTTP 404" in message and "HTTP 500" in message
    assert "checksum" in message and "connection closed after" in message
    assert server.requests["/missing/file.bin"] == 1  # 4xx is final
    assert server.requests["/error/file.bin"] == 2  # 5xx is retried
    assert list(tmp_path.iterdir()) == []
