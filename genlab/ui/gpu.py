"""gpu(duration): run a handler on a ZeroGPU Space's borrowed GPU, and be a no-op everywhere else.

ZeroGPU Spaces attach a GPU only inside functions decorated with `spaces.GPU`; they set
SPACES_ZERO_GPU, and the `spaces` package is installed there. Locally, on CPU Spaces and on
dedicated-GPU Spaces either is missing and the handler is returned untouched.
"""

import functools
import importlib
import inspect
import os
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

# GPU seconds a ZeroGPU Space grants one call of each kind (it queues calls that ask for more)
SAMPLE_GPU_SECONDS = 20  # a grid, a reconstruction, an interpolation: well under a second on a GPU
TEXT_GPU_SECONDS = 60  # up to 2,000 characters, one at a time
DENOISE_GPU_SECONDS = 60  # up to 64 digits x 1000 guided DDPM steps: tens of seconds on a GPU
TRAIN_GPU_SECONDS = 120  # ZeroGPU's usual cap per call: a public run is stopped by its wall-time limit first


def _zero_gpu():
    """The `spaces` module on a ZeroGPU Space; None elsewhere (decided per call, so tests can fake it)."""
    if not os.environ.get("SPACES_ZERO_GPU"):
        return None
    try:
        return importlib.import_module("spaces")
    except ImportError:
        return None


def on_zero_gpu() -> bool:
    return _zero_gpu() is not None


def gpu(duration: int) -> Callable[[F], F]:
    """Decorator factory: `@gpu(60)` asks ZeroGPU for up to `duration` seconds of GPU per call."""
    spaces = _zero_gpu()

    def decorate(fn: F) -> F:
        if spaces is None:
            return fn
        wrapped = spaces.GPU(duration=duration)(fn)
        if inspect.isgeneratorfunction(fn) and not inspect.isgeneratorfunction(wrapped):
            # Gradio streams only from generator functions; a wrapper that returns a generator
            # would be treated as a one-shot handler, so re-expose it as a generator
            @functools.wraps(fn)
            def stream(*args, **kwargs):
                yield from wrapped(*args, **kwargs)
            return stream
        return functools.wraps(fn)(wrapped) if wrapped is not fn else fn

    return decorate
