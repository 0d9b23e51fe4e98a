"""Turn library validation errors into messages users (and gradio_client) see."""

import functools

import gradio as gr

from genlab.params import RequestError


def user_errors(handler):
    """RequestError (bad input) -> gr.Error with the same message; other errors stay internal."""
    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except RequestError as err:
            raise gr.Error(str(err)) from None
    return wrapped
