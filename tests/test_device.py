import pytest
import torch

from nndl.device import resolve_device
from nndl.errors import DeviceError


def test_auto_picks_what_is_there():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cpu_is_always_available():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("spec", ["cuda", "cuda:0"])
def test_explicit_cuda_without_a_gpu_says_what_to_do(spec):
    with pytest.raises(DeviceError, match=r"config key 'device' is 'cuda.*no CUDA device.*device: auto"):
        resolve_device(spec)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_a_gpu_index_past_the_last_is_refused():
    with pytest.raises(DeviceError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_unknown_device_is_refused():
    with pytest.raises(DeviceError, match="'tpu' is not one of"):
        resolve_device("tpu")
