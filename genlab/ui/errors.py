"""Turn expected failures into messages users (and gradio_client) see; everything else stays internal."""

import functools
import inspect

import gradio as gr

from genlab.lazy import lazy
from genlab.params import RequestError

training = lazy("genlab.training")


def is_user_error(err: Exception) -> bool:
    """Errors whose messages are written for users: bad requests and a training loss gone NaN."""
    return isinstance(err, RequestError) or isinstance(err, training.NonFiniteLoss)


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
                raise gr.Error(str(err)) from None
        return streaming

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception as err:
            if not is_user_error(err):
                raise
            raise gr.Error(str(err)) from None
    return wrapped
