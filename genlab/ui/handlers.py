"""The one way a tab turns a function into a Gradio event handler."""

from functools import partial
from typing import Callable, Optional

from genlab.ui.errors import user_errors
from genlab.ui.gpu import gpu
from genlab.ui.quick_first import QuickFirst


def handler(fn: Callable, *bound, gpu_seconds: Optional[int] = None, pacer: Optional[QuickFirst] = None) -> Callable:
    """`fn` with `bound` as its first arguments (the store, the trainer...), its user errors shown as
    messages, and, when `gpu_seconds` is given, run on a ZeroGPU Space's GPU for up to that long.
    `pacer`: `fn` streams a heavy lane's frames, which wait while the quick lane has work."""
    call = partial(fn, *bound) if bound else fn
    if gpu_seconds is not None:
        call = gpu(gpu_seconds)(call)
    if pacer is not None:
        call = pacer.paced(call)
    return user_errors(call)
