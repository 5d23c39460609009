"""How a training job's CPU float arithmetic is done: `fast` (each CPU's own fastest kernels) or
`portable` (the same bits on every x86-64 CPU with AVX2, at some cost: docs/numbers.md).

torch's CPU matmuls go to MKL and oneDNN, which pick their kernels by instruction set, and torch's
own kernels are built for several (AVX2, AVX-512): float32 sums then round differently from one CPU
to another (pytorch#155423; ATEN_CPU_CAPABILITY alone is not enough, #155552). The portable
settings pin all three to AVX2 and switch off MKL's and OpenMP's dynamic thread counts; the job
fixes its thread count itself (torch.set_num_threads, from the spec). Each is read once, when the
library first loads: they must be in the environment before torch is imported, so the chunk job's
script calls `prepare` first (and the test suite's conftest does, for the runs it trains in-process).

No torch import here, at module level: that is the point.
"""

from __future__ import annotations

import os
import sys

from nndl.errors import NumericsError

FAST, PORTABLE = "fast", "portable"
MODES = (FAST, PORTABLE)

# Read by MKL, torch's dispatcher and oneDNN when they load (FastSurfer PR #892: bit-identical
# float32 on 8 runners of 4 CPU models with these and a fixed thread count).
PORTABLE_ENVIRONMENT = {
    "MKL_CBWR": "COMPATIBLE",  # MKL's conditional numerical reproducibility: one code path on every CPU
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's own vectorised kernels: the AVX2 build, also on AVX-512
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (nn.Linear may go there) no further than AVX2
    "MKL_DYNAMIC": "FALSE",  # the thread count asked for, not one MKL picks per call
    "OMP_DYNAMIC": "FALSE",
}
# torch's name for the kernels the portable settings leave it (torch.backends.cpu.get_cpu_capability).
PORTABLE_CAPABILITY = "AVX2"


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise NumericsError(f"config key 'numerics': {mode!r} is not one of {', '.join(MODES)}")
    return mode


def prepare(mode: str) -> None:
    """Put `mode`'s settings in this process's environment, before torch is imported. For
    `portable` after torch was imported, NumericsError unless they were there already."""
    if check_mode(mode) == FAST:
        return
    missing = {key: value for key, value in PORTABLE_ENVIRONMENT.items() if os.environ.get(key) != value}
    if missing and "torch" in sys.modules:
        raise NumericsError(
            "portable numerics must be set before torch is imported, and this process imported it first: "
            f"set {' '.join(f'{key}={value}' for key, value in missing.items())} in the environment that "
            "starts it, or call nndl.numerics.prepare before any torch import.")
    os.environ.update(PORTABLE_ENVIRONMENT)


def in_force(mode: str) -> dict[str, str]:
    """What this process computes with, for the run's record and tags: the mode, the kernels torch
    dispatches to, and the environment's numerics settings (unset ones left out). NumericsError
    if `portable` was asked for and is not what torch loaded with."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    settings = {key: os.environ[key] for key in PORTABLE_ENVIRONMENT if key in os.environ}
    if check_mode(mode) == PORTABLE and (settings != PORTABLE_ENVIRONMENT or capability != PORTABLE_CAPABILITY):
        raise NumericsError(
            f"portable numerics asked for, but torch runs with {capability} kernels and "
            f"{settings or 'none of the settings'} (wanted {PORTABLE_CAPABILITY} and {PORTABLE_ENVIRONMENT}). "
            "A CPU without AVX2 (or not x86-64) cannot give the portable numbers: set numerics: fast in the "
            "config. Otherwise the settings came too late: call nndl.numerics.prepare before torch is imported.")
    return {"mode": mode, "cpu_capability": capability, **settings}
