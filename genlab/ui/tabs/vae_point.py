"""Clicking the VAE's latent map: the digit at the clicked point at once, and the path between two clicks.

A point of the map is (x, y) in standard deviations of the test encodings along the map plane's two
axes (genlab.models.vae.Plane); its latent is plane.lift((x, y) * spread), exactly the inverse of how
the map places a digit. A click costs one decoder call on one latent: the model and its plane stay
in memory between clicks.
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple

import gradio as gr
import numpy as np
import torch

from genlab import images, weights
from genlab.models import vae
from genlab.models.base import evaluating
from genlab.params import RequestError, check_value
from genlab.train import hub
from genlab.ui.handlers import handler
from genlab.ui.outputs import OutputFiles
from genlab.ui.pictures import picture
from genlab.ui.recently_used import RecentlyUsed
from genlab.ui.store import PRETRAINED, ModelStore

MAP_EXTENT = 2.5  # the map spans +-2.5 standard deviations each way, like the decoded grid beside it
MAP_SIZE = 440  # px of the map's square plot; the legend sits below it
POINT_SCALE = 8  # the decoded digit is shown 8x (224 px): large enough to read at a glance
PATH_STEPS = 10  # frames of the walk between two clicks
RUNS_KEPT = 4  # checkpoints of session runs kept for clicking


class ClickModels:
    """The model and map plane a click decodes with, kept between clicks.

    Shipped and Hub models are the store's own (it keeps them); a session run's checkpoint is kept
    here until its file changes on disk, so clicking never reloads weights or re-encodes the test set."""

    def __init__(self, store: ModelStore, encodings):
        self.store, self.encodings = store, encodings
        self._runs: RecentlyUsed = RecentlyUsed(RUNS_KEPT)  # (folder, file time) -> model

    def get(self, choice: Optional[str], session: Optional[dict]) -> Tuple[torch.nn.Module, vae.Plane]:
        if choice in (None, "", PRETRAINED) or hub.is_repo_id(choice):
            model = self.store.choose("vae", choice, session)
        else:
            folder = self.store.saved_run(session, choice, "vae")
            key = (folder, (folder / weights.TENSORS).stat().st_mtime_ns)
            model = self._runs.get_or_make(key, lambda: self.store.choose("vae", choice, session))
        _, plane = self.encodings.get(model, choice, session)
        return model, plane


def check_point(x, y) -> Tuple[float, float]:
    """(x, y) as floats inside the map, RequestError naming the map's range otherwise."""
    x, y = (check_value(name, value, float) for name, value in (("x", x), ("y", y)))
    if max(abs(x), abs(y)) > MAP_EXTENT:
        raise RequestError(f"the point ({x:g}, {y:g}) is outside the map: x and y must be from "
                           f"-{MAP_EXTENT:g} to {MAP_EXTENT:g} (standard deviations)")
    return x, y


def point_of_pixel(index) -> Tuple[float, float]:
    """Map coordinates of a click at pixel `index` = [column, row] of the map picture (genlab.images.scatter
    draws (x, y) at ((x / extent + 1) / 2 * (size - 1), (1 - y / extent) / 2 * (size - 1)))."""
    if not isinstance(index, (list, tuple)) or len(index) != 2:
        raise RequestError("a click on the map gives a pixel [column, row]")
    column, row = (check_value(name, value, float) for name, value in zip(("column", "row"), index))
    last = MAP_SIZE - 1
    if not (0 <= column <= last and 0 <= row <= last):
        raise RequestError("click inside the map's square: the legend below it is no place in the latent space")
    return check_point((2 * column / last - 1) * MAP_EXTENT, (1 - 2 * row / last) * MAP_EXTENT)


def latent_at(plane: vae.Plane, x: float, y: float) -> torch.Tensor:
    """The latent (1, D) at map point (x, y): the plane's origin moved x and y spreads along its axes."""
    return plane.lift(torch.tensor([[x, y]]) * plane.spread)


def decoded(model, z: torch.Tensor) -> torch.Tensor:
    """Decoder means (N, 1, 28, 28) in [-1, 1] for latents z (N, D), on the CPU."""
    with evaluating(model):
        return model.decode(z).cpu()


def decode_point(models: ClickModels, x, y, model=PRETRAINED, session=None) -> np.ndarray:
    """The digit the decoder draws at map point (x, y): a (224, 224) uint8 picture."""
    x, y = check_point(x, y)  # validated before any model work
    chosen, plane = models.get(model, session)
    return images.grid(decoded(chosen, latent_at(plane, x, y)), columns=1, scale=POINT_SCALE, pad=0)


def where_text(x: float, y: float, clicks: List[list]) -> str:
    walk = " The strip below walks from your previous click to this one." if len(clicks) == 2 else \
        " Click a second point to walk between the two."
    return f"Decoded at **({x:.2f}, {y:.2f})** standard deviations along the map's axes.{walk}"


def click(models: ClickModels, index, clicks: Optional[List[list]], model=PRETRAINED,
          session=None) -> Tuple[np.ndarray, float, float, str, List[list]]:
    """A click at map pixel `index`: the digit there, the point, a line of text and the last two clicks."""
    x, y = point_of_pixel(index)
    picture = decode_point(models, x, y, model, session)
    clicks = (list(clicks or [])[-1:] + [[x, y]])
    return picture, round(x, 3), round(y, 3), where_text(x, y, clicks), clicks


def click_path(models: ClickModels, outputs: OutputFiles, clicks: Optional[List[list]], model=PRETRAINED,
               session=None):
    """The walk along the straight map line between the last two clicks: a strip and a looping GIF."""
    if not clicks or len(clicks) < 2:
        return None, None
    (xa, ya), (xb, yb) = (check_point(*point) for point in clicks[-2:])
    chosen, plane = models.get(model, session)
    z = vae.path(latent_at(plane, xa, ya), latent_at(plane, xb, yb), PATH_STEPS, "linear")  # (steps, D)
    frames = decoded(chosen, z)
    return images.strip(frames, scale=3), outputs.gif(images.frames(frames), "vae-map-walk")


@dataclass
class PointWidgets:
    digit: gr.Image
    x: gr.Number
    y: gr.Number
    decode: gr.Button
    text: gr.Markdown
    clicks: gr.State  # the last two clicked points, [[x, y], ...]
    strip: gr.Image
    animation: gr.Image


def build() -> PointWidgets:
    """The clicked point's digit, its coordinates (typed ones decode too) and the walk between two clicks."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=200):
            digit = picture("Digit at the click", "vae-point", image_mode="L", height=240)
        with gr.Column(scale=2, min_width=260):
            text = gr.Markdown("Press **Reconstruct and map**, then click the map.", elem_id="vae-point-text",
                               label="The clicked point", show_label=False)
            with gr.Row():
                x = gr.Number(0.0, label="x (std. dev.)", minimum=-MAP_EXTENT, maximum=MAP_EXTENT, step=0.1,
                              elem_id="vae-point-x")
                y = gr.Number(0.0, label="y (std. dev.)", minimum=-MAP_EXTENT, maximum=MAP_EXTENT, step=0.1,
                              elem_id="vae-point-y")
            decode = gr.Button("Decode this point", elem_id="vae-point-decode", size="sm")
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=300):
            strip = picture("Walk between the last two clicks", "vae-point-strip", image_mode="L", height=130)
        with gr.Column(scale=1, min_width=130):
            animation = picture("The walk (GIF)", "vae-point-gif", type="filepath", height=130)
    return PointWidgets(digit, x, y, decode, text, gr.State([]), strip, animation)


def wire(w: PointWidgets, scatter: gr.Image, models: ClickModels, outputs: OutputFiles, model, session) -> None:
    """Clicks run in their own lane: a slow map or grid never makes a click wait."""
    lane = {"concurrency_id": "vae-click", "concurrency_limit": models.store.concurrency_limit}
    clicked = handler(click, models)

    def on_click(clicks, chosen, state, where: gr.SelectData):  # Gradio fills `where` from the click
        return clicked(where.index, clicks, chosen, state)

    event = scatter.select(on_click, [w.clicks, model, session], [w.digit, w.x, w.y, w.text, w.clicks],
                           api_visibility="private", show_progress="hidden", **lane)
    event.success(handler(click_path, models, outputs), [w.clicks, model, session], [w.strip, w.animation],
                  api_visibility="private", show_progress="hidden", **lane)
    w.decode.click(handler(decode_point, models), [w.x, w.y, model, session], w.digit,
                   api_name="vae_decode_point", **lane)
