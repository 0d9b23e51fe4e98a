"""build_app(): the whole dashboard as a gr.Blocks, built but never launched here."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline-first: no calls home
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from genlab.ui import gan_tab  # noqa: E402
from genlab.ui.store import ModelStore  # noqa: E402

INTRO = """# genlab: a hands-on generative-AI lab
Play with small generative models trained on MNIST digits, see how they work and how good they are.
Every model runs here, on this machine; every picture is made fresh for your settings."""

# one tab per entry: (label, builder); builders take the Blocks and the shared ModelStore
TABS = [("GAN", gan_tab.build)]

CSS = """
#gan-grid img, #gan-strip img, #gan-verdicts img, #gan-gif img { image-rendering: pixelated; }
"""


def build_app(device: str = "") -> gr.Blocks:
    store = ModelStore(device)
    with gr.Blocks(title="genlab", delete_cache=(3600, 3600), analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            for label, build in TABS:
                with gr.Tab(label, id=label.lower()):
                    build(demo, store)
    return demo


def launch_options() -> dict:
    """Settings every launch shares (app.py and tests): styling and no unauthenticated monitoring."""
    return {"css": CSS, "enable_monitoring": False}
