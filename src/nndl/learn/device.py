"""Decide the device once, where a program starts, and pass it down."""

from __future__ import annotations

import re

import torch

from nndl.errors import DeviceError

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(spec: str) -> torch.device:
    """Turn the config's `device` ('auto', 'cpu', 'cuda', 'cuda:N') into a torch.device."""
    if not DEVICE_PATTERN.match(spec):
        raise DeviceError(f"config key 'device': {spec!r} is not one of auto, cpu, cuda, cuda:N")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"config key 'device' is {spec!r}, but torch sees no CUDA device here "
                f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}). "
                f"Set device: auto (uses the GPU when there is one) or device: cpu."
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(
                f"config key 'device' is {spec!r}, but this machine has {count} CUDA device(s): "
                f"use cuda:0 to cuda:{count - 1}."
            )
    return device


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"
