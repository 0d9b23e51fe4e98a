"""Turn library validation errors into messages users (and gradio_client) see."""

import functools

import gradio as gr


def user_errors(handler):
    """ValueError (bad input) -> gr.Error with the same message; other errors stay internal."""
    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except ValueError as err:
            raise gr.Error(str(err)) from None
    return wrapped
