"""Turn expected failures into messages users (and gradio_client) see; everything else stays internal."""

import functools
import inspect
import logging
import math
import numbers

import gradio as gr

from genlab.params import RequestError
from genlab.train import loop

LOG = logging.getLogger("genlab")


def is_user_error(err: Exception) -> bool:
    """Errors whose messages are written for users: bad requests and a training loss gone NaN."""
    return isinstance(err, RequestError) or isinstance(err, loop.NonFiniteLoss)


def refused(message: str) -> gr.Error:
    """The gr.Error a user sees; the server log gets one line for it, not a traceback (it is no bug)."""
    LOG.info("refused a request: %s", message)
    return gr.Error(message, print_exception=False)


def user_errors(handler):
    """Re-raise user errors from `handler` (a function or a generator) as gr.Error, same message."""
    if inspect.isgeneratorfunction(handler) or inspect.isgeneratorfunction(getattr(handler, "func", None)):
        @functools.wraps(handler)
        def streaming(*args, **kwargs):
            try:
                yield from handler(*args, **kwargs)
            except Exception as err:
                if not is_user_error(err):
                    raise
                raise refused(str(err)) from None
        return streaming

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception as err:
            if not is_user_error(err):
                raise
            raise refused(str(err)) from None
    return wrapped


def name_bad_numbers(demo: gr.Blocks) -> gr.Blocks:
    """Make every Slider and Number of `demo` refuse a value that is not a number with a message that
    names the field ("Number of samples must be a number, got 'abc'").

    Gradio checks a slider's range while it preprocesses the request, before any handler runs, and
    a string there fails with a TypeError that users see only as "an exception was raised"."""
    for block in demo.blocks.values():
        if isinstance(block, (gr.Slider, gr.Number)):
            block.preprocess = _number_checked(block.preprocess, block.label or "a number field",
                                               none_ok=not isinstance(block, gr.Slider))
    return demo


def _number_checked(preprocess, label: str, none_ok: bool):
    @functools.wraps(preprocess)
    def checked(payload):
        if payload is None and none_ok:
            return preprocess(payload)
        if isinstance(payload, bool) or not isinstance(payload, numbers.Real) or not math.isfinite(payload):
            raise refused(f"{label} must be a finite number, got {payload!r}")
        return preprocess(payload)
    return checked
