"""Pick the torch device once: GENLAB_DEVICE overrides, otherwise cuda, then mps, then cpu."""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import sys

from genlab.lazy import lazy

torch = lazy("torch")  # `surely_cpu` answers before torch has loaded

_CHOICES = ("auto", "cpu", "cuda", "mps")


def _requested(name: str) -> str:
    return (name or os.environ.get("GENLAB_DEVICE") or "auto").strip().lower()


def resolve(name: str = "") -> torch.device:
    """`name` ("auto", "cpu", "cuda", "cuda:1", "mps"); empty means $GENLAB_DEVICE or "auto"."""
    return _resolve(_requested(name))


@functools.lru_cache(maxsize=None)
def _resolve(name: str) -> torch.device:
    if name.split(":")[0] not in _CHOICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(_CHOICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' requested but MPS is not available here")
    return torch.device(name)


def surely_cpu(name: str = "") -> bool:
    """True when resolve(name) can only be the CPU, decided without importing torch (the app sizes
    its request queue before torch loads): the CPU was asked for, or "auto" on a machine with no
    GPU driver. False means "ask torch"; resolve() stays the one answer to which device it is."""
    name = _requested(name)
    return name == "cpu" or (name == "auto" and not _gpu_driver_present())


@functools.lru_cache(maxsize=None)
def _gpu_driver_present() -> bool:
    if sys.platform == "darwin":
        return platform.machine() == "arm64"  # Apple silicon: MPS
    if os.environ.get("SPACES_ZERO_GPU") or os.path.exists("/dev/kfd"):  # ZeroGPU lends one per call; ROCm
        return True
    for library in ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so"):
        try:
            ctypes.CDLL(library)  # the NVIDIA driver: torch finds no CUDA device without it
            return True
        except OSError:
            pass
    return False
