"""Pick the torch device once: GENLAB_DEVICE overrides, otherwise cuda, then mps, then cpu."""

from __future__ import annotations

import ctypes
import functools
import os
import sys

from genlab.lazy import lazy

torch = lazy("torch")  # expects_accelerator answers before torch has loaded

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


def expects_accelerator(name: str = "") -> bool:
    """Whether resolve(name) will most likely be a GPU, answered without importing torch (the app sizes
    its request queue while it builds the page, before torch loads): cuda or mps asked for, or "auto"
    on a machine with a GPU driver. The one miss is a CPU-only torch next to a GPU driver, which then
    serves a few model calls at once instead of one. resolve() stays the answer to which device it is."""
    name = _requested(name)
    return name != "cpu" and (name != "auto" or _gpu_driver_present())


@functools.lru_cache(maxsize=None)
def _gpu_driver_present() -> bool:
    if sys.platform == "darwin":
        return True  # Metal: every Mac torch supports has a GPU that MPS can use
    # ZeroGPU lends a GPU per call (torch reports cuda there); /dev/kfd is ROCm's driver
    if os.environ.get("SPACES_ZERO_GPU") or os.path.exists("/dev/kfd"):
        return True
    for library in ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so"):
        try:
            ctypes.CDLL(library)  # the NVIDIA driver: torch finds no CUDA device without it
            return True
        except OSError:
            pass
    return False
