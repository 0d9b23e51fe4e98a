"""The one way a tab turns a function into a Gradio event handler."""

from functools import partial
from typing import Callable, Optional

from genlab.ui.errors import user_errors
from genlab.ui.gpu import gpu


def handler(fn: Callable, *bound, gpu_seconds: Optional[int] = None) -> Callable:
    """`fn` with `bound` as its first arguments (the store, the trainer...), its user errors shown as
    messages, and, when `gpu_seconds` is given, run on a ZeroGPU Space's GPU for up to that long."""
    call = partial(fn, *bound) if bound else fn
    if gpu_seconds is not None:
        call = gpu(gpu_seconds)(call)
    return user_errors(call)
