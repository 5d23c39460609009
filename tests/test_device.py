"""The device is decided once: 'auto' follows what torch sees; explicit CUDA without one says what to do."""

import pytest
import torch

from nndl.errors import DeviceError
from nndl.learn.device import device_name, resolve_device


def pretend_gpus(monkeypatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


def test_auto_is_the_cpu_on_a_machine_without_a_gpu(monkeypatch):
    pretend_gpus(monkeypatch, 0)
    assert resolve_device("auto") == torch.device("cpu")


def test_auto_is_cuda_on_a_machine_with_a_gpu(monkeypatch):
    pretend_gpus(monkeypatch, 2)
    assert resolve_device("auto") == torch.device("cuda")


def test_cpu_is_always_available(monkeypatch):
    pretend_gpus(monkeypatch, 0)
    assert resolve_device("cpu") == torch.device("cpu")
    assert device_name(torch.device("cpu")) == "cpu"


@pytest.mark.parametrize("spec", ["cuda", "cuda:0"])
def test_explicit_cuda_without_a_gpu_says_what_to_do(monkeypatch, spec):
    pretend_gpus(monkeypatch, 0)
    with pytest.raises(DeviceError, match=r"config key 'device' is 'cuda.*no CUDA device.*device: auto"):
        resolve_device(spec)


def test_a_gpu_index_within_range_is_kept(monkeypatch):
    pretend_gpus(monkeypatch, 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)


def test_a_gpu_index_past_the_last_is_refused(monkeypatch):
    pretend_gpus(monkeypatch, 2)
    with pytest.raises(DeviceError, match=r"2 CUDA device\(s\): use cuda:0 to cuda:1"):
        resolve_device("cuda:2")


@pytest.mark.parametrize("spec", ["tpu", "cuda:", "CPU", "cuda:x"])
def test_unknown_device_is_refused(spec):
    with pytest.raises(DeviceError, match="is not one of auto, cpu, cuda, cuda:N"):
        resolve_device(spec)
