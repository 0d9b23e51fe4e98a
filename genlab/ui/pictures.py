"""The one way a tab shows a picture: a gr.Image with download and full screen, and no share button
(share uploads the picture to a third party), whose PNGs are written the fast way (images.png_bytes)."""

from pathlib import Path

import gradio as gr
import numpy as np
from gradio.processing_utils import hash_bytes
from PIL import Image

from genlab import images

BUTTONS = ["download", "fullscreen"]


def picture(label: str, elem_id: str, **kwargs) -> gr.Image:
    """A PNG output image (GIFs: pass type="filepath"); `kwargs` go to gr.Image."""
    options = {"format": "png", "buttons": BUTTONS, "interactive": False, **kwargs}
    return written_with_png_bytes(gr.Image(label=label, elem_id=elem_id, **options))


def written_with_png_bytes(image: gr.Image) -> gr.Image:
    """`image`, encoding the uint8 arrays and PIL images its handlers return with images.png_bytes.

    Gradio encodes them with zlib's default strategy, several milliseconds a grid on the quick lane.
    The file goes where Gradio would put it, its cache, in a folder named by the hash of its bytes
    as Gradio names them, so Gradio serves it, tracks it and deletes it as one of its own; any other
    value (a file path, a float array) takes Gradio's own way."""
    gradio_postprocess = image.postprocess

    def postprocess(value):
        fast = (isinstance(value, Image.Image) or (isinstance(value, np.ndarray) and value.dtype == np.uint8))
        if fast and image.format == "png" and image.watermark.watermark is None:
            data = images.png_bytes(value)
            folder = Path(image.GRADIO_CACHE) / hash_bytes(data)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "image.png"
            path.write_bytes(data)
            value = str(path.resolve())
        return gradio_postprocess(value)

    image.postprocess = postprocess
    return image
