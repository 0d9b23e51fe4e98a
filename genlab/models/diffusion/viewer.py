"""Checked diffusion requests and the denoising viewer's frames, shared by the CLI, the tab and benchmarks.

The viewer shows, at each solver step, the noisy batch x_t next to the network's current guess of
the clean digits x_0. A handful of evenly spaced steps are kept (as small uint8 grids) for the
scrubber and the GIF, so a 1000-step DDPM run costs no more memory than a 10-step one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator, List, Optional

import numpy as np
import torch

from genlab import images
from genlab.models import base, sampling
from genlab.models.diffusion import schedulers
from genlab.params import RequestError, check_seed, check_value

MAX_SAMPLES = 64
UNCONDITIONAL = "none"
DIGIT_CHOICES = sampling.DIGIT_CHOICES + [UNCONDITIONAL]  # "mix", "0".."9", "none"
KEPT_FRAMES = 40  # steps kept for the scrubber and the GIF
FRAME_SECONDS = 0.1  # at most ~10 pictures a second reach the browser while sampling runs


@dataclass(frozen=True)
class DiffusionRequest:
    digit: Optional[int]  # None: a mix of 0..9
    unconditional: bool  # "none": ask for no digit at all (guidance is then moot)
    n: int
    seed: int
    settings: schedulers.SamplerSettings


def diffusion_request(digit, n, seed, scheduler, steps, guidance) -> DiffusionRequest:
    """Every field checked (RequestError naming the valid range) before any model work."""
    unconditional = str(digit).strip().lower() == UNCONDITIONAL
    parsed = None if unconditional else sampling.parse_digit(digit)
    return DiffusionRequest(parsed, unconditional, check_value("number of samples", n, int, 1, MAX_SAMPLES),
                            check_seed(seed),
                            schedulers.sampler(scheduler, steps, guidance))


def branches(request: DiffusionRequest) -> int:
    """Network evaluations per digit and step: guidance runs the labelled and the unlabelled branch
    (genlab.denoising.guided_noise), except where it reduces to one of them."""
    return 1 if request.unconditional or request.settings.guidance in (0.0, 1.0) else 2


def labels(request: DiffusionRequest, null_label: int) -> torch.Tensor:
    """(n,) labels; the model's null label is its class count (genlab.models.diffusion.model)."""
    if request.unconditional:
        return torch.full((request.n,), null_label, dtype=torch.long)
    if request.digit is not None and request.digit >= null_label:
        raise RequestError(f"this model knows classes 0-{null_label - 1}, got {request.digit}")
    return sampling.labels_for(request.n, request.digit, null_label)


def columns(request: DiffusionRequest) -> int:
    return min(request.n, 10) if request.digit is None and not request.unconditional else math.ceil(math.sqrt(request.n))


def kept_steps(steps: int, keep: int = KEPT_FRAMES) -> set:
    """Evenly spaced step indices (1-based) to keep, always including the first and the last."""
    count = min(keep, steps)
    return {round(1 + i * (steps - 1) / max(1, count - 1)) for i in range(count)}


@dataclass
class View:
    """One moment of a denoising run, ready to show."""

    index: int  # steps done
    steps: int
    timestep: int
    noisy: Optional[np.ndarray]  # (H, W) uint8 grid of x_t; None on frames the throttle skipped
    clean: Optional[np.ndarray]  # (H, W) uint8 grid of predicted x_0
    kept: List[tuple]  # (step, timestep, noisy grid, clean grid) kept so far, unscaled
    samples: Optional[torch.Tensor] = None  # the final digits (n, 1, 28, 28) in [-1, 1], on the last view

    @property
    def done(self) -> bool:
        return self.index == self.steps


def watch(model, request: DiffusionRequest, *, frame_seconds: float = FRAME_SECONDS) -> Iterator[View]:
    """Run the sampler, yielding a View after every step; pictures are drawn for the steps the viewer
    keeps and, at most every `frame_seconds`, for the live display. The last View carries the digits."""
    keep = kept_steps(request.settings.steps)
    cols = columns(request)
    kept: List[tuple] = []
    shown = -math.inf
    frames = model.denoise(labels(request, model.null_label), generator=torch.Generator().manual_seed(request.seed),
                           settings=request.settings)
    for frame in base.advanced_within(lambda: base.evaluating(model), frames):
        due = time.perf_counter() - shown >= frame_seconds or frame.index == frame.steps
        x = frame.noisy.clamp(-1, 1)
        noisy = clean = None
        if due or frame.index in keep:
            noisy = images.grid(x, columns=cols, scale=1)
            clean = images.grid(frame.clean, columns=cols, scale=1)
        if frame.index in keep:
            kept.append((frame.index, frame.timestep, noisy, clean))
        if due:
            shown = time.perf_counter()
        yield View(frame.index, frame.steps, frame.timestep, noisy if due else None, clean if due else None,
                   kept, x.cpu() if frame.index == frame.steps else None)


SCREEN_WIDTH = 860  # px the tab's output column gives a picture in a 1400 px wide window
MIN_DIGIT_PX = 48  # the smallest a digit may appear on that screen


def on_screen_px(picture_width: int, scale: int, digit: int = 28) -> float:
    """How wide one digit appears when a picture `picture_width` px wide (before scaling) is shown
    `scale`x, shrunk to fit SCREEN_WIDTH (Gradio scales an image down to its box, never up)."""
    return digit * scale * min(1.0, SCREEN_WIDTH / (picture_width * scale))


def arranged(noisy: np.ndarray, clean: np.ndarray, gap: int = 6) -> np.ndarray:
    """x_t and predicted x_0 (unscaled grids) in one unscaled picture: side by side when that keeps
    digits at least MIN_DIGIT_PX on screen at 3x, otherwise x_t above x_0 (a 10-column 'mix')."""
    h, w = noisy.shape
    side = on_screen_px(2 * w + gap, 3) >= MIN_DIGIT_PX
    spacer = np.full((h, gap) if side else (gap, w), 255, dtype=np.uint8)
    return np.concatenate([noisy, spacer, clean], axis=1 if side else 0)


def pair(noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """`arranged`, upscaled without blur: 3x, or 2x for tall stacks (56 px digits, less scrolling)."""
    both = arranged(noisy, clean)
    scale = 3 if both.shape[0] <= 200 else 2
    return both.repeat(scale, 0).repeat(scale, 1)


def check_kept(kept: List[tuple], position) -> tuple:
    """The kept frame at scrubber `position` (0-based), RequestError when out of range."""
    if not kept:
        raise RequestError("sample first: the scrubber moves over the steps of the last run")
    return kept[check_value("frame", position, int, 0, len(kept) - 1)]


@dataclass(frozen=True)
class NoiseSchedule:
    """The forward process a sampler runs backwards, from the model's own diffusers scheduler config."""

    alpha_bar: np.ndarray  # (T,) share of the clean digit's variance left at each training timestep t
    visited: np.ndarray  # (steps,) the timesteps the chosen solver evaluates the network at, first to last

    @property
    def log_snr(self) -> np.ndarray:
        """(T,) log signal-to-noise ratio log(abar_t / (1 - abar_t)) (Kingma et al. 2021, "Variational
        diffusion models"): positive where the digit dominates, negative where noise does."""
        return np.log(self.alpha_bar) - np.log1p(-self.alpha_bar)


def noise_schedule(model, settings: schedulers.SamplerSettings) -> NoiseSchedule:
    """alpha-bar over t and the timesteps `settings`' solver visits, from `model.scheduler_config()`."""
    scheduler = schedulers.make_scheduler(model.scheduler_config(), settings.scheduler)
    scheduler.set_timesteps(settings.steps)
    return NoiseSchedule(scheduler.alphas_cumprod.double().numpy(), scheduler.timesteps.numpy().astype(int))
