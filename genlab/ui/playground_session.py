"""One visitor's Playground model: the request that describes it, checked before any model work, and
the run that holds the model and the one training loop (genlab.train.loop.train) it is stepped through.

The loop is a generator of Progress events; a run keeps it open across requests and advances it
with next(), one step per call, so Play, Step, "step D" and "step G" all train through it.
"""

import contextlib
import dataclasses
import threading
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch

from genlab import params
from genlab.devices import single_threaded
from genlab.data import points2d
from genlab.eval import density2d
from genlab.models.base import Family, TrainConfig
from genlab.models.playground import MAX_STEPS, PLAYGROUND_FAMILIES
from genlab.params import MAX_SEED, RequestError, param
from genlab.train import loop

MAX_STREAM_SECONDS = 120  # one Play request pauses itself after this long (press Play to carry on)
MAX_PLAY_STEPS = 20_000  # training steps one Play request may take
MAX_FPS = 12  # frames one Play request sends per second at most: more would only queue up in the browser
VIEW_SEED = 1234  # the views' noise is fixed, so samples move smoothly from frame to frame
HISTORY = 400  # chart points kept; older ones are thinned out
BUSY_WAIT_SECONDS = 3  # how long a request waits for a paused Play to finish its frame
TIME_STEPS = 20  # the flow view's noise-level slider moves in steps of 1 / TIME_STEPS


@dataclass(frozen=True)
class PlaygroundControls:
    """What every playground model shares (its own settings are its family's config)."""

    seed: int = param(0, "seeds the model's first weights, the data cloud and the training noise", 0, MAX_SEED,
                      basic=True)
    lr: float = param(2e-3, "learning rate (Adam)", 1e-5, 0.05, basic=True)
    batch_size: int = param(128, "points per training step", 8, 1024, basic=True)
    steps_per_frame: int = param(5, "training steps between two pictures while playing", 1, 50, basic=True)


@dataclass(frozen=True)
class PlaygroundRequest:
    family: Family
    config: object  # the family's config dataclass
    recipe: TrainConfig
    data: points2d.PointSet
    steps_per_frame: int
    key: Tuple  # everything the model depends on: a run is reused while its key is the same


def playground_request(model: str, data: str, controls: Optional[dict] = None, config: Optional[dict] = None,
                       drawn=None) -> PlaygroundRequest:
    """A checked request; RequestError naming the bad value or the limit otherwise. No model work is done."""
    for name, value in (("controls", controls), ("config", config)):
        if value is not None and not isinstance(value, dict):
            raise RequestError(f"{name} must be an object of field: value pairs, got {type(value).__name__}")
    if not isinstance(model, str) or model not in PLAYGROUND_FAMILIES:
        raise RequestError(f"model must be one of {', '.join(PLAYGROUND_FAMILIES)}, got {model!r}")
    family = PLAYGROUND_FAMILIES[model]
    chosen = params.build(PlaygroundControls, dict(controls or {}))
    settings = params.build(family.config_cls, dict(config or {}))
    points = points2d.load_points(shape=data, drawn=drawn if data == points2d.DRAWN else None, seed=chosen.seed)
    recipe = dataclasses.replace(family.recipe, seed=chosen.seed, lr=chosen.lr, batch_size=chosen.batch_size)
    clicked = tuple(map(tuple, np.round(points2d.check_drawn(drawn), 4).tolist())) if data == points2d.DRAWN else ()
    key = (model, data, clicked, tuple(dataclasses.asdict(settings).items()), recipe)
    return PlaygroundRequest(family, settings, recipe, points, chosen.steps_per_frame, key)


def check_time(value) -> float:
    """The flow view's time t in [0, 1]."""
    return params.check_value("time t", value, float, 0.0, 1.0)


class PlaygroundRun:
    """A model, its data and the training loop advancing it, with the evaluation chart's history."""

    def __init__(self, request: PlaygroundRequest):
        self.request, self.family, self.data = request, request.family, request.data
        self.model = loop.new_model(request.family, request.config, request.recipe, "cpu")  # tiny: the CPU is fastest
        self.steps: Iterator[loop.Progress] = loop.train(request.family, self.model, request.data, request.recipe)
        self.step, self.losses = 0, {}
        self.history: List[Tuple[int, float, float, Dict[str, float]]] = []  # (step, KL, JS, losses)
        self._busy = threading.Lock()

    @contextlib.contextmanager
    def holding(self):
        """The run for one request alone: a second request while Play runs is refused, not interleaved.
        It waits a moment first: a Play just paused lets go once its current frame is done."""
        if not self._busy.acquire(timeout=BUSY_WAIT_SECONDS):
            raise RequestError("this model is training already: press Pause first")
        try:
            yield self
        finally:
            self._busy.release()

    def advance(self, n: int, update: str = "both") -> None:
        """`n` steps of the training loop; `update` "discriminator" or "generator" trains one side of a GAN."""
        updates = getattr(self.model, "UPDATES", ("both",))
        if update not in updates:
            raise RequestError(f"update must be one of {', '.join(updates)} for the {self.family.title}, got {update!r}")
        if self.step + n > MAX_STEPS:
            raise RequestError(f"a playground model trains for at most {MAX_STEPS:,} steps: press Reset")
        if update != "both":
            self.model.update = update
        try:
            with single_threaded():
                for _ in range(n):
                    progress = next(self.steps)
                    self.step, self.losses = progress.step, progress.losses
        finally:
            if update != "both":
                self.model.update = "both"

    def record(self, samples: np.ndarray) -> Tuple[float, float]:
        """KL and JS of the data and `samples` (N, 2), added to the chart's history unless already there."""
        kl, js = density2d.divergences(self.data.points, samples)
        if not self.history or self.history[-1][0] != self.step:
            self.history.append((self.step, kl, js, dict(self.losses)))
            if len(self.history) > HISTORY:  # keep the first point, thin the rest to every other one
                self.history = self.history[:1] + self.history[2::2]
        return kl, js


def run_for(slot: dict, request: PlaygroundRequest, fresh: bool = False) -> Tuple[PlaygroundRun, bool]:
    """The session's run for `request` and whether it is new: kept while the settings stay the same,
    replaced when they change or when `fresh` (Reset). `slot` is the session's gr.State dict.
    A replaced run that is still playing carries on alone until its stream is closed (the tab's
    Pause, Reset and every change of model or data close it)."""
    run = slot.get("run")
    if fresh or run is None or run.request.key != request.key:
        run = slot["run"] = PlaygroundRun(request)
        return run, True
    return run, False
