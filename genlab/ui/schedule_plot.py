"""A picture of a diffusion noise schedule: alpha-bar and log-SNR over t, the solver's timesteps, the current one.

Drawn with Pillow rather than a plotting library: the curves are drawn once per schedule and the
marker of the current step is drawn on a copy, so a streaming run can send a fresh plot with every
frame at almost no cost.
"""

import functools
from typing import Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw

from genlab.images import caption_font
from genlab.models.diffusion.viewer import NoiseSchedule

WIDTH = 560
LEFT, RIGHT, TOP, PANEL, GAP, BOTTOM = 62, 16, 30, 104, 34, 44  # px: margins, panel height, space between
SIGNAL, LOG_SNR, NOW, GRID, INK = (31, 119, 180), (214, 110, 14), (214, 39, 40), (228, 228, 228), (40, 40, 40)
LOG_SNR_RANGE = (-20.0, 12.0)  # the cosine schedule spans about -20 (t = 999) to +10 (t = 0)


def _panels() -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """(top, bottom) px of the alpha-bar panel and of the log-SNR panel."""
    first = (TOP, TOP + PANEL)
    return first, (first[1] + GAP, first[1] + GAP + PANEL)


def _x(t: np.ndarray, steps: int) -> np.ndarray:
    return LEFT + t / max(1, steps - 1) * (WIDTH - LEFT - RIGHT)


def _y(value: np.ndarray, low: float, high: float, panel: Tuple[int, int]) -> np.ndarray:
    return panel[1] - (np.clip(value, low, high) - low) / (high - low) * (panel[1] - panel[0])


def _axes(draw: ImageDraw.ImageDraw, panel, low, high, ticks, title, colour, font) -> None:
    for tick in ticks:
        y = float(_y(np.array(tick), low, high, panel))
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID)
        draw.text((LEFT - 6, y), f"{tick:g}", fill=INK, font=font, anchor="rm")
    draw.rectangle([LEFT, panel[0], WIDTH - RIGHT, panel[1]], outline=(170, 170, 170))
    draw.text((LEFT + 6, panel[1] - 4), title, fill=colour, font=font, anchor="ld")  # both curves leave it empty


@functools.lru_cache(maxsize=16)
def _base(alpha_bar: bytes, visited: bytes, solver: str) -> Image.Image:
    """The curves, axes and the solver's timesteps (arrays passed as bytes so the drawing is cached)."""
    schedule = NoiseSchedule(np.frombuffer(alpha_bar), np.frombuffer(visited, dtype=np.int64))
    steps = len(schedule.alpha_bar)
    font, small = caption_font(13), caption_font(11)
    (top, bottom), height = _panels(), _panels()[1][1] + BOTTOM
    canvas = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(canvas)
    _axes(draw, top, 0.0, 1.0, (0, 0.5, 1), "alpha-bar: share of the digit's signal left", SIGNAL, small)
    _axes(draw, bottom, *LOG_SNR_RANGE, (-20, -10, 0, 10), "log-SNR = log(alpha-bar / (1 - alpha-bar))",
          LOG_SNR, small)
    t = np.arange(steps)
    for values, low, high, panel, colour in ((schedule.alpha_bar, 0.0, 1.0, top, SIGNAL),
                                             (schedule.log_snr, *LOG_SNR_RANGE, bottom, LOG_SNR)):
        draw.line(list(zip(_x(t, steps), _y(values, low, high, panel))), fill=colour, width=2)
        for v in schedule.visited:  # where this solver calls the network
            x, y = float(_x(np.array(v), steps)), float(_y(values[v], low, high, panel))
            draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], outline=INK, width=1)
    for tick in range(0, steps + 1, max(1, steps // 4)):
        x = float(_x(np.array(min(tick, steps - 1)), steps))
        draw.line([(x, bottom[1]), (x, bottom[1] + 4)], fill=INK)
        draw.text((x, bottom[1] + 6), str(tick), fill=INK, font=small, anchor="ma")
    draw.text((LEFT, bottom[1] + 22), f"timestep t · circles: the {len(schedule.visited)} steps of {solver} · "
                                      f"sampling runs right to left", fill=INK, font=small)
    draw.text((LEFT, 8), "Noise schedule", fill=INK, font=font)
    return canvas


def schedule_picture(schedule: NoiseSchedule, solver: str, current: Optional[Tuple[int, int, int]] = None
                     ) -> Image.Image:
    """The schedule, with step `current` = (step, steps, timestep) marked by a red line when given."""
    canvas = _base(schedule.alpha_bar.astype(np.float64).tobytes(), schedule.visited.astype(np.int64).tobytes(),
                   solver).copy()
    if current is None:
        return canvas
    step, steps, t = current
    n = len(schedule.alpha_bar)
    top, bottom = _panels()
    draw = ImageDraw.Draw(canvas)
    x = float(_x(np.array(t), n))
    draw.line([(x, top[0]), (x, bottom[1])], fill=NOW, width=2)
    for value, low, high, panel in ((schedule.alpha_bar[t], 0.0, 1.0, top),
                                    (schedule.log_snr[t], *LOG_SNR_RANGE, bottom)):
        y = float(_y(np.array(value), low, high, panel))
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=NOW)
    draw.text((WIDTH - RIGHT, 8), f"step {step}/{steps}: t = {t}, alpha-bar = {schedule.alpha_bar[t]:.3g}, "
                                  f"log-SNR = {schedule.log_snr[t]:+.1f}", fill=NOW, font=caption_font(13), anchor="ra")
    return canvas
