"""The env check: what this pipeline runs on (torch, CUDA, the device it will train on), recorded as a file."""

from __future__ import annotations

import os
import platform
import sys

import torch

from nndl.learn.device import device_name, resolve_device
from nndl.provenance import package_versions

def collect(device_spec: str) -> dict:
    """Everything a reader needs to know about the machine a result came from."""
    cuda_available = torch.cuda.is_available()
    gpus = []
    if cuda_available:
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            gpus.append({"index": index, "name": properties.name,
                         "memory_gib": round(properties.total_memory / 2**30, 2),
                         "capability": f"{properties.major}.{properties.minor}"})
    resolved = resolve_device(device_spec)
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": package_versions(),
        "torch_cuda_build": torch.version.cuda,
        "cuda_available": cuda_available,
        "gpus": gpus,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device_config": device_spec,
        "device": str(resolved),
        "device_name": device_name(resolved),
    }


def summary(info: dict) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    gpu_lines = [f"  GPU {gpu['index']}: {gpu['name']} ({gpu['memory_gib']} GiB, sm {gpu['capability']})"
                 for gpu in info["gpus"]] or ["  no CUDA device visible"]
    return "\n".join([
        f"Python {info['python']} on {info['platform']}",
        f"Packages: {versions}",
        f"CUDA available: {info['cuda_available']} (torch built for CUDA {info['torch_cuda_build']})",
        *gpu_lines,
        f"CPUs: {info['cpu_count']}, torch threads: {info['torch_threads']}",
        f"Device: config {info['device_config']!r} -> {info['device']} ({info['device_name']})",
    ])
