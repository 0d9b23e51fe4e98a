"""The Gradio dashboard: build_app() assembles one module per tab; nothing here launches."""

from genlab.ui.app import build_app

__all__ = ["build_app"]
