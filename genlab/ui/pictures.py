"""The one way a tab shows a picture: a gr.Image with download and full screen, and no share button
(share uploads the picture to a third party)."""

import gradio as gr

BUTTONS = ["download", "fullscreen"]


def picture(label: str, elem_id: str, **kwargs) -> gr.Image:
    """A PNG output image (GIFs: pass type="filepath"); `kwargs` go to gr.Image."""
    options = {"format": "png", "buttons": BUTTONS, "interactive": False, **kwargs}
    return gr.Image(label=label, elem_id=elem_id, **options)
