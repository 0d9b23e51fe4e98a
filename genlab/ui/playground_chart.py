"""The Playground's evaluation chart, drawn with Pillow: KL and JS divergence between the data and
the samples over the steps (GAN Lab's chart), and the logged losses."""

from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

from genlab.eval.density2d import JS_MAX
from genlab.ui.playground_views import text_mask

PANEL = (300, 180)  # width, height of one of the chart's panels
MARGIN = (44, 26, 10, 22)  # left, top, right, bottom, in pixels
LINE_COLOURS = [(37, 99, 235), (220, 38, 38), (22, 163, 74), (147, 51, 234)]
History = List[Tuple[int, float, float, Dict[str, float]]]  # (step, KL, JS, losses)


def _write(image: Image.Image, at, text: str, size: int, colour) -> int:
    """Paste `text` (rendered once, then cached) at `at`; returns its width."""
    mask = text_mask(text, size)
    image.paste(colour, (int(at[0]), int(at[1])), mask)
    return mask.width


def _panel(title: str, steps: Sequence[int], series: Dict[str, Sequence[float]], low=None, high=None) -> Image.Image:
    width, height = PANEL
    left, top, right, bottom = MARGIN
    image = Image.new("RGB", PANEL, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    _write(image, (left, 4), title, 13, (30, 41, 59))
    values = np.array([v for line in series.values() for v in line if np.isfinite(v)] or [0.0])
    lo = values.min() if low is None else low
    hi = max(values.max() if high is None else high, lo + 1e-6)
    first, last = (steps[0], steps[-1]) if steps else (0, 1)
    span = max(last - first, 1)
    plot = (left, top, width - right, height - bottom)
    draw.rectangle(plot, outline=(203, 213, 225))
    for value, y in ((hi, plot[1]), (lo, plot[3])):
        _write(image, (4, y - 6), f"{value:.3g}", 11, (100, 116, 139))
    _write(image, (left, plot[3] + 4), f"step {first:,}", 11, (100, 116, 139))
    end = f"{last:,}"
    _write(image, (plot[2] - text_mask(end, 11).width, plot[3] + 4), end, 11, (100, 116, 139))
    for i, (name, line) in enumerate(series.items()):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        xs = [plot[0] + (s - first) / span * (plot[2] - plot[0]) for s in steps]
        ys = [plot[3] - (min(max(v, lo), hi) - lo) / (hi - lo) * (plot[3] - plot[1]) for v in line]
        if len(xs) > 1:
            draw.line(list(zip(xs, ys)), fill=colour, width=2)
        elif xs:
            draw.ellipse((xs[0] - 2, ys[0] - 2, xs[0] + 2, ys[0] + 2), fill=colour)
        key = f"{name} {line[-1]:.3g}" if len(line) else name
        _write(image, (plot[2] - 8 - text_mask(key, 11).width, plot[1] + 4 + 14 * i), key, 11, colour)
    return image


def chart(history: History, loss_names: Dict[str, str]) -> np.ndarray:
    """(H, W, 3): KL, JS and the losses over the steps of `history`; `loss_names` names the logged keys."""
    steps = [h[0] for h in history]
    kl = _panel("KL(real || generated), nats", steps, {"KL": [h[1] for h in history]}, low=0.0)
    js = _panel("JS divergence, nats (max ln 2)", steps, {"JS": [h[2] for h in history]}, low=0.0, high=JS_MAX)
    keys = [k for k in loss_names if any(k in h[3] for h in history)] or sorted({k for h in history for k in h[3]})
    with_losses = [h for h in history if h[3]]
    losses = _panel("losses", [h[0] for h in with_losses],
                    {loss_names.get(k, k): [h[3].get(k, np.nan) for h in with_losses] for k in keys})
    canvas = Image.new("RGB", (3 * PANEL[0] + 16, PANEL[1]), (255, 255, 255))
    for i, panel in enumerate((kl, js, losses)):
        canvas.paste(panel, (i * (PANEL[0] + 8), 0))
    return np.asarray(canvas)
