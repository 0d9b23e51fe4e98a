"""Turn expected failures into messages users (and gradio_client) see; everything else stays internal."""

import functools
import inspect

import gradio as gr

from genlab.params import RequestError
from genlab.training import NonFiniteLoss

USER_ERRORS = (RequestError, NonFiniteLoss)  # their messages are written for users


def user_errors(handler):
    """Re-raise USER_ERRORS from `handler` (a function or a generator) as gr.Error, same message."""
    if inspect.isgeneratorfunction(handler) or inspect.isgeneratorfunction(getattr(handler, "func", None)):
        @functools.wraps(handler)
        def streaming(*args, **kwargs):
            try:
                yield from handler(*args, **kwargs)
            except USER_ERRORS as err:
                raise gr.Error(str(err)) from None
        return streaming

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except USER_ERRORS as err:
            raise gr.Error(str(err)) from None
    return wrapped
