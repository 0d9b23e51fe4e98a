"""Pick the torch device once (GENLAB_DEVICE overrides, otherwise cuda, then mps, then cpu), and run
small work on one CPU thread."""

import contextlib
import functools
import os

import torch

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


@contextlib.contextmanager
def single_threaded():
    """torch on one CPU thread for the block, in the calling thread only (OpenMP's thread count is per thread).

    For work made of many tiny operations (a decoding step of one character, the playground's networks)
    handing each operation to a second thread costs more than it saves, and on a CPU shared with other
    work the threads wait on each other for far longer still (benchmarks/text_speed.py). Never held
    across a `yield`: a generator may resume on another thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
