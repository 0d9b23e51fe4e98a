"""A digit from any source: a test digit by index, a random test digit of a class, an upload, a sketch.

`build_input` lays out one such picker; `read_digit` turns its values into a (28, 28) uint8 digit
(white on black, MNIST-like) or raises RequestError, before any model work. Uploads and sketches
reach `read_digit` undecoded (bytes or a file path), so preprocess checks their pixel count first.
"""

from dataclasses import dataclass
from typing import Callable, List, Optional, Union

import gradio as gr
import numpy as np

from genlab.data import mnist, preprocess
from genlab.params import RequestError, check_seed, check_value

SOURCES = ["test digit #", "random test digit of a class", "upload", "sketch"]


def _undecoded(file, flatten_on_white: bool = False) -> Union[str, bytes, None]:
    """An image of a sketch value as it came: a file path (FileData from the page or an API call,
    already in Gradio's cache) or the canvas's PNG bytes (blob uploads). Replaces the Sketchpad's
    own conversion, which decodes and converts every image in full before any handler runs,
    whatever its `type`: a decompression bomb sent as a sketch would cost its whole size."""
    if file is None or isinstance(file, (bytes, bytearray, memoryview)):
        return bytes(file) if file is not None else None
    return file.path


def undecoded_sketchpad(**kwargs) -> gr.Sketchpad:
    """A gr.Sketchpad whose value is {background, layers, composite} of undecoded images (`_undecoded`).

    The conversion is replaced on the instance: a subclass of a Gradio component makes Gradio
    write a .pyi stub beside this file at import."""
    sketch = gr.Sketchpad(type="filepath", **kwargs)
    sketch.convert_and_format_image = _undecoded
    return sketch


@dataclass
class ReferenceDigits:
    """The test set the pickers draw from: MNIST's (full when present, else the bundled sample), or for a
    run trained on other pictures that run's own held-out split (`runs`: (choice, session) -> the split,
    None for a model of digits)."""

    digits: Optional[mnist.Digits] = None
    runs: Optional[Callable[[Optional[str], Optional[dict]], Optional[mnist.Digits]]] = None

    def get(self, choice: Optional[str] = None, session: Optional[dict] = None) -> mnist.Digits:
        own = self.runs(choice, session) if self.runs is not None else None
        if own is not None:
            return own
        if self.digits is None:
            self.digits = mnist.load_digits("test")
        return self.digits


def read_digit(test: ReferenceDigits, source, index, digit, seed, upload, sketch, choice: Optional[str] = None,
               session: Optional[dict] = None) -> np.ndarray:
    """(28, 28) uint8 from the picker's values (test pictures: those of the model `choice` names);
    RequestError naming what is wrong."""
    if source == SOURCES[0]:
        digits = test.get(choice, session)
        return digits.images[check_value("test digit index", index, int, 0, len(digits) - 1)]
    if source == SOURCES[1]:
        digits = test.get(choice, session)
        wanted = check_value("class", int(digit) if str(digit).isdigit() else digit, int, 0, digits.num_classes - 1)
        pool = np.flatnonzero(digits.labels == wanted)
        rng = np.random.default_rng(check_seed(seed))
        return digits.images[rng.choice(pool)]
    if source == SOURCES[2]:
        if not upload:
            raise RequestError("choose an image file to upload first")
        return preprocess.mnist_like(upload)  # bytes, or a file path from a Python caller
    if source == SOURCES[3]:
        # {background, layers, composite}: each a file path or PNG bytes (undecoded_sketchpad), or an array
        composite = sketch.get("composite") if isinstance(sketch, dict) else sketch
        if composite is None:
            raise RequestError("the sketchpad is empty: pick the brush and draw a digit")
        return preprocess.mnist_like(composite)
    raise RequestError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")


def build_input(prefix: str, label: str, default_index: int = 0) -> List[gr.components.Component]:
    """The picker's widgets in `read_digit` order (source, index, digit, seed, upload, sketch)."""
    with gr.Group():
        source = gr.Radio(SOURCES, value=SOURCES[0], label=label, elem_id=f"{prefix}-source")
        with gr.Row():
            index = gr.Number(default_index, precision=0, minimum=0, label="test digit #", elem_id=f"{prefix}-index")
            digit = gr.Dropdown([str(d) for d in range(10)], value="3", label="class", elem_id=f"{prefix}-digit")
            seed = gr.Number(0, precision=0, minimum=0, label="seed", elem_id=f"{prefix}-seed")
        upload = gr.File(label="or upload an image", type="binary", file_types=["image"], elem_id=f"{prefix}-upload")
        sketch = undecoded_sketchpad(image_mode="L", canvas_size=(280, 280), label="or sketch a digit",
                                     brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"),
                                     elem_id=f"{prefix}-sketch")
    # drawing or uploading is choosing that source: the picker never ignores what the user just gave it
    for widget, chosen in ((index, SOURCES[0]), (digit, SOURCES[1]), (seed, SOURCES[1])):
        widget.input(lambda chosen=chosen: chosen, None, source, api_visibility="private", queue=False)
    upload.upload(lambda: SOURCES[2], None, source, api_visibility="private", queue=False)
    sketch.input(lambda: SOURCES[3], None, source, api_visibility="private", queue=False)
    return [source, index, digit, seed, upload, sketch]
