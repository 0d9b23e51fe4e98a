"""The Playground's handlers, plain functions the tab wires and tests call: Play (a stream of frames),
one step (both sides, or one side of a GAN), Reset, a redraw, and the "draw your own" canvas.

Each takes the same description of the model (model, data, controls, config, drawn points) and the
session's slot (a gr.State dict); a request is checked in full before any model work.
"""

import time as clock
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch

from genlab.data import points2d
from genlab.devices import single_threaded
from genlab.params import RequestError
from genlab.ui.playground_chart import chart
from genlab.ui.playground_frames import FRAMES
from genlab.ui.playground_session import (MAX_FPS, MAX_PLAY_STEPS, MAX_STREAM_SECONDS, VIEW_SEED, PlaygroundRun,
                                          check_time, playground_request, run_for)
from genlab.ui.playground_views import REAL, PointPlane

Pictures = Tuple[np.ndarray, np.ndarray, np.ndarray, str]  # data plane, inside view, chart, status line
CANVAS = 280  # pixels per side of the "draw your own" canvas


def frame(run: PlaygroundRun, time: float, note: str = "", rate: Optional[float] = None) -> Pictures:
    """The pictures and the status line of the run's model as it is now (no training)."""
    with torch.no_grad(), single_threaded():
        drawn = FRAMES[run.family.name](run.model, run.data, torch.Generator().manual_seed(VIEW_SEED), time)
    kl, js = run.record(drawn.samples)
    losses = " · ".join(f"{run.family.loss_names.get(k, k)} {v:.3f}" for k, v in run.losses.items())
    parts = [f"**{run.family.title}** on **{run.data.source}**", f"step {run.step:,}",
             *([f"{rate:.0f} steps/s"] if rate else []), f"KL {kl:.3f}", f"JS {js:.3f}", *([losses] if losses else []),
             *([note] if note else [])]
    return drawn.main, drawn.side, chart(run.history, run.family.loss_names), " · ".join(parts)


def playground_view(slot: dict, model: str, data: str, controls: Optional[dict] = None, config: Optional[dict] = None,
                    drawn=None, time: float = 1.0) -> Pictures:
    """Draw the session's model (a new one when the settings changed) without training it. With too
    few drawn points yet, the canvas is drawn and the status asks for more (no error: the visitor is drawing)."""
    if data == points2d.DRAWN and isinstance(drawn, list) and len(drawn) < points2d.MIN_DRAWN:
        blank = PointPlane(points2d.DOMAIN).axes().picture()
        return (blank, blank, chart([], {}),
                f"Click at least {points2d.MIN_DRAWN} points on the canvas (it has {len(drawn)}).")
    request, time = playground_request(model, data, controls, config, drawn), check_time(time)
    run, new = run_for(slot, request)
    with run.holding():
        return frame(run, time, "new model" if new else "")


def playground_reset(slot: dict, model: str, data: str, controls: Optional[dict] = None,
                     config: Optional[dict] = None, drawn=None, time: float = 1.0) -> Pictures:
    """A fresh model from the seed: step 0."""
    request, time = playground_request(model, data, controls, config, drawn), check_time(time)
    run, _ = run_for(slot, request, fresh=True)
    with run.holding():
        return frame(run, time, "reset")


def playground_step(slot: dict, model: str, data: str, controls: Optional[dict] = None,
                    config: Optional[dict] = None, drawn=None, time: float = 1.0, update: str = "both") -> Pictures:
    """One training step: `update` "both", or for the GAN "discriminator" or "generator" alone."""
    request, time = playground_request(model, data, controls, config, drawn), check_time(time)
    run, new = run_for(slot, request)
    with run.holding():
        run.advance(1, update)
        side = {"both": "", "discriminator": "D only", "generator": "G only"}.get(update, "")
        return frame(run, time, " · ".join(n for n in ("new model" if new else "", side) if n))


def playground_train(slot: dict, model: str, data: str, controls: Optional[dict] = None,
                     config: Optional[dict] = None, drawn=None, time: float = 1.0) -> Iterator[Pictures]:
    """Play: train and stream a frame every `steps_per_frame` steps until paused (the request is closed),
    for at most MAX_STREAM_SECONDS and MAX_PLAY_STEPS, at most MAX_FPS frames a second."""
    request, time = playground_request(model, data, controls, config, drawn), check_time(time)
    run, _ = run_for(slot, request)
    with run.holding():
        began = last = clock.perf_counter()
        start = run.step
        while True:
            run.advance(request.steps_per_frame)
            now = clock.perf_counter()
            rate = (run.step - start) / (now - began)
            done = run.step - start
            over = (f"paused after {MAX_STREAM_SECONDS} s, the limit of one Play: press Play to carry on"
                    if now - began >= MAX_STREAM_SECONDS else
                    f"paused after {MAX_PLAY_STEPS:,} steps, the limit of one Play: press Play to carry on"
                    if done + request.steps_per_frame > MAX_PLAY_STEPS else "")
            yield frame(run, time, over, rate)
            if over:
                return
            wait = 1 / MAX_FPS - (clock.perf_counter() - last)
            if wait > 0:
                clock.sleep(wait)
            last = clock.perf_counter()


def canvas(drawn) -> np.ndarray:
    """The "draw your own" canvas: the clicked points (green) on the data plane."""
    points = np.asarray(drawn or [], dtype=np.float64).reshape(-1, 2)
    plane = PointPlane(points2d.DOMAIN, size=CANVAS).axes().points(points, REAL, 4)
    plane.label(f"{len(points)} of {points2d.MAX_DRAWN} points", "bottom")
    return plane.picture()


def add_point(drawn, x: float, y: float) -> Tuple[np.ndarray, List[List[float]]]:
    """The canvas and the list of points with a click at pixel (x, y) added; refused past MAX_DRAWN."""
    points = [list(p) for p in (drawn or [])]
    if len(points) >= points2d.MAX_DRAWN:
        raise RequestError(f"at most {points2d.MAX_DRAWN} drawn points: press Clear to start again")
    scale = 2 * points2d.DOMAIN / CANVAS
    point = [round(float(np.clip(x * scale - points2d.DOMAIN, -points2d.DOMAIN, points2d.DOMAIN)), 4),
             round(float(np.clip(points2d.DOMAIN - y * scale, -points2d.DOMAIN, points2d.DOMAIN)), 4)]
    points.append(point)
    return canvas(points), points
