"""The same seed and digit through every solver at equal steps: pictures, wall times and the judge's verdicts.

Each solver starts from the same seeded noise (genlab.models.diffusion.denoising.trajectory draws it
from the seed), so the digits differ only by how the solver walks the noise schedule back. The wall
time counts the solver's own work only: time spent by the caller between two frames (drawing,
sending pictures) is left out.
"""

import math
import time
from dataclasses import dataclass, field
from typing import Iterator, List, Optional

import numpy as np
import torch
from PIL import Image, ImageDraw

from genlab import images
from genlab.models import base, sampling
from genlab.models.diffusion import schedulers
from genlab.params import check_seed, check_value

MAX_SAMPLES = 8  # digits per solver: four solvers side by side stay readable
MAX_STEPS = 100  # network evaluations per digit and solver; every solver can take this many
SOLVERS = tuple(schedulers.SCHEDULERS)  # ddpm, ddim, dpm++, sde-dpm++


@dataclass(frozen=True)
class ComparisonRequest:
    digit: Optional[int]  # None: a mix of 0..9
    n: int
    seed: int
    steps: int
    guidance: float

    def settings(self, solver: str) -> schedulers.SamplerSettings:
        return schedulers.sampler(solver, self.steps, self.guidance)


def comparison_request(digit, n, seed, steps, guidance) -> ComparisonRequest:
    """Every field checked (RequestError naming the valid range) before any model work."""
    return ComparisonRequest(sampling.parse_digit(digit), check_value("number of samples", n, int, 1, MAX_SAMPLES),
                             check_seed(seed), check_value("steps", steps, int, 1, MAX_STEPS),
                             check_value("guidance", guidance, float, 0.0, schedulers.MAX_GUIDANCE))


def branches(request: ComparisonRequest) -> int:
    """Network evaluations per digit and step: guidance runs two branches except where it reduces to one
    (genlab.models.diffusion.denoising.guided_noise)."""
    return 1 if request.guidance in (0.0, 1.0) else 2


@dataclass
class SolverResult:
    solver: str
    samples: torch.Tensor  # (n, 1, 28, 28) in [-1, 1]
    seconds: float
    predicted: List[int]  # the judge's digit for each sample
    confidence: List[float]  # the judge's probability of it
    agree: Optional[int]  # samples the judge reads as the digit asked for; None: no judge for this model's data


@dataclass
class ComparisonState:
    """Where a comparison stands: finished solvers, and the one running with its latest x_t."""

    results: List[SolverResult] = field(default_factory=list)
    running: Optional[str] = None
    step: int = 0
    steps: int = 0
    noisy: Optional[torch.Tensor] = None  # (n, 1, 28, 28) x_t of the running solver

    @property
    def done(self) -> bool:
        return self.running is None and len(self.results) == len(SOLVERS)


def verdict(judge, samples: torch.Tensor, wanted: torch.Tensor) -> tuple:
    """(predicted digits, their probabilities, how many match `wanted`) for samples (n, 1, 28, 28);
    ([], [], None) without a judge (a run on other data, and no judge trained on it)."""
    if judge is None:
        return [], [], None
    device = next(judge.parameters()).device
    with base.evaluating(judge):
        probs = torch.softmax(judge(samples.to(device)), dim=1).cpu()  # (n, classes)
    confidence, predicted = probs.max(1)
    return predicted.tolist(), confidence.tolist(), int((predicted == wanted).sum())


def compare(model, judge, request: ComparisonRequest) -> Iterator[ComparisonState]:
    """Run every solver in turn on the same seed, yielding the state after every step of every solver."""
    sampling.check_class(model, request.digit)
    wanted = sampling.labels_for(request.n, request.digit)
    state = ComparisonState()
    for solver in SOLVERS:
        state.running, state.step, state.steps, state.noisy = solver, 0, request.steps, None
        frames = model.denoise(wanted, generator=torch.Generator().manual_seed(request.seed),
                               settings=request.settings(solver))
        stepping = base.advanced_within(lambda: base.evaluating(model), frames)
        seconds, last = 0.0, None
        while True:
            began = time.perf_counter()
            frame = next(stepping, None)
            seconds += time.perf_counter() - began  # only the solver's own work: the caller's time is left out
            if frame is None:
                break
            last = frame
            state.step, state.noisy = frame.index, frame.noisy.clamp(-1, 1).cpu()
            yield state
        samples = last.noisy.clamp(-1, 1).cpu()
        state.results.append(SolverResult(solver, samples, seconds, *verdict(judge, samples, wanted)))
        state.running, state.noisy = None, None
    yield state


PANEL_PAD = 10
PANEL_MIN_WIDTH = 170  # px: room for the longest solver name and verdict under one digit


def panels(state: ComparisonState, request: ComparisonRequest, scale: int = 3) -> Image.Image:
    """The four solvers side by side: each one's digits with its name, wall time and the judge's verdict;
    the running solver shows its current x_t, the ones still waiting an empty frame."""
    columns = math.ceil(math.sqrt(request.n))  # each solver's digits as a square block: four blocks fit a row
    blank = torch.full((request.n, 1, 28, 28), -1.0)
    tile = images.grid(blank, columns=columns, scale=scale)
    tile_h, tile_w = tile.shape
    panel_w = max(tile_w, PANEL_MIN_WIDTH)
    title_font, font = images.caption_font(15), images.caption_font(13)
    width = PANEL_PAD + len(SOLVERS) * (panel_w + PANEL_PAD)
    canvas = Image.new("RGB", (width, tile_h + 92), "white")
    draw = ImageDraw.Draw(canvas)
    finished = {r.solver: r for r in state.results}
    for i, solver in enumerate(SOLVERS):
        x = PANEL_PAD + i * (panel_w + PANEL_PAD)
        draw.text((x, 6), schedulers.SCHEDULERS[solver].title.split(" (")[0], fill="black", font=title_font)
        result = finished.get(solver)
        shown = result.samples if result else state.noisy if state.running == solver else blank
        canvas.paste(Image.fromarray(images.grid(shown, columns=columns, scale=scale)).convert("RGB"), (x, 28))
        below = tile_h + 34
        if result:
            ink = images.INK_OK if result.agree == request.n else images.INK_WRONG
            draw.text((x, below), f"{result.seconds:.2f} s for {request.steps} steps", fill="black", font=font)
            if result.agree is None:
                draw.text((x, below + 18), "no judge for this data", fill=(130, 130, 130), font=font)
            else:
                draw.text((x, below + 18), f"judge agrees on {result.agree} of {request.n}", fill=ink, font=font)
                draw.text((x, below + 36), f"reads {' '.join(map(str, result.predicted))}", fill=ink, font=font)
        elif state.running == solver:
            draw.text((x, below), f"step {state.step} / {state.steps} ...", fill="black", font=font)
        else:
            draw.text((x, below), "waiting", fill=(130, 130, 130), font=font)
    return canvas


def table(state: ComparisonState, request: ComparisonRequest) -> str:
    """The finished solvers as a Markdown table: wall time, time per step, the judge's verdict."""
    rows = ["| solver | wall time | per step | judge agrees | judge reads | mean confidence |",
            "|---|---:|---:|---:|---|---:|"]
    for r in state.results:
        judged = (f"{r.agree} / {request.n} | {' '.join(map(str, r.predicted))} | {np.mean(r.confidence):.0%}"
                  if r.agree is not None else "no judge for this data | | ")
        rows.append(f"| {schedulers.SCHEDULERS[r.solver].title} | {r.seconds:.2f} s | "
                    f"{1000 * r.seconds / request.steps:.0f} ms | {judged} |")
    return "\n".join(rows)
