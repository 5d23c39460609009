import numpy as np
import pytest

from nndl.data import idx


def test_round_trip_preserves_shape_and_values(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "a.gz"
    idx.write_idx_gz(array, path)
    assert np.array_equal(idx.read_idx(path, expected_ndim=3), array)


def test_same_array_gives_same_bytes(tmp_path):
    array = np.full((5, 28, 28), 7, dtype=np.uint8)
    idx.write_idx_gz(array, tmp_path / "one.gz")
    idx.write_idx_gz(array, tmp_path / "two.gz")
    assert (tmp_path / "one.gz").read_bytes() == (tmp_path / "two.gz").read_bytes()


def test_header_is_the_mnist_one():
    raw = idx.encode_idx(np.zeros((3,), dtype=np.uint8))
    assert raw[:8] == bytes([0, 0, 8, 1, 0, 0, 0, 3])


def test_bad_magic_number_is_named():
    raw = bytearray(idx.encode_idx(np.zeros((2, 2), dtype=np.uint8)))
    raw[2] = 0x0D  # float32 code
    with pytest.raises(ValueError, match="bad magic number 0x00000d02"):
        idx.parse_idx(bytes(raw), name="labels.gz")


@pytest.mark.parametrize("cut", [1, 10])
def test_wrong_length_is_named(cut):
    raw = idx.encode_idx(np.zeros((4, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="wrong length|truncated"):
        idx.parse_idx(raw[:-cut] if cut == 1 else raw[:cut], name="x")


def test_padded_file_is_rejected():
    raw = idx.encode_idx(np.zeros((4, 3), dtype=np.uint8)) + b"\0"
    with pytest.raises(ValueError, match="wrong length"):
        idx.parse_idx(raw, name="x")


def test_wrong_dimensions_are_rejected(tmp_path):
    path = tmp_path / "labels.gz"
    idx.write_idx_gz(np.zeros((4,), dtype=np.uint8), path)
    with pytest.raises(ValueError, match="has 1 dimensions, expected 3"):
        idx.read_idx(path, expected_ndim=3)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "images.gz"
    idx.write_idx_gz(np.random.default_rng(0).integers(0, 255, (50, 28, 28), dtype=np.uint8), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="images.gz: cannot decompress"):
        idx.read_idx(path)


def test_plain_uncompressed_file_reads(tmp_path):
    path = tmp_path / "plain-idx1-ubyte"
    path.write_bytes(idx.encode_idx(np.array([1, 2, 3], dtype=np.uint8)))
    assert idx.read_idx(path).tolist() == [1, 2, 3]
