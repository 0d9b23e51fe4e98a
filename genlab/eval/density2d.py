"""KL and JS divergence between two 2-D point clouds, through smoothed histograms on a grid.

This is the evaluation chart of GAN Lab (Kahng et al. 2019): both clouds are binned on the same
BINS x BINS grid, smoothed with a small gaussian, and compared cell by cell. It is crude (a 40x40
grid cannot see detail finer than a cell) but cheap enough to draw every frame, and it falls as
the generated cloud covers the real one.
"""

import functools
import math
from typing import Tuple

import numpy as np

from genlab.data.points2d import DOMAIN

BINS = 40
SMOOTHING = 1.0  # standard deviation of the smoothing kernel, in cells
FLOOR = 1e-6  # share of uniform mass mixed into q for KL(p || q), so KL stays finite where q is empty
JS_MAX = math.log(2)  # JS of disjoint densities, in nats


@functools.lru_cache(maxsize=8)
def _blur(bins: int, sigma: float) -> np.ndarray:
    """(bins, bins) matrix B: B @ column is a gaussian blur of the column, cut at 3 sigma (so clouds
    far apart stay disjoint after smoothing) and zero-padded at the edges."""
    offset = np.arange(bins)[:, None] - np.arange(bins)[None, :]
    weights = np.exp(-0.5 * (offset / sigma) ** 2)
    weights[np.abs(offset) > max(1, math.ceil(3 * sigma))] = 0
    return weights / weights.sum(0, keepdims=True).max()


def density(points: np.ndarray, bins: int = BINS, smoothing: float = SMOOTHING,
            extent: float = DOMAIN) -> np.ndarray:
    """(bins, bins) probabilities (sum 1, rows = y from the bottom) of (N, 2) points in [-extent, extent]^2,
    smoothed by a separable gaussian of `smoothing` cells; points outside are clipped to the border cells."""
    points = np.clip(np.asarray(points, dtype=np.float64), -extent, extent)
    counts, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=bins, range=[[-extent, extent]] * 2)
    if smoothing > 0:
        blur = _blur(bins, smoothing)
        counts = blur @ counts @ blur.T  # along y, then along x
    total = counts.sum()
    return counts / total if total > 0 else np.full((bins, bins), 1 / bins ** 2)


def kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in nats, with FLOOR of uniform mass mixed into q (so at most `kl_ceiling(p)`)."""
    q = (1 - FLOOR) * q + FLOOR / q.size
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def kl_ceiling(p: np.ndarray) -> float:
    """The largest KL(p || q) over every q: reached when q is disjoint from p, where only the floor
    is left, so it is log(cells / FLOOR) less p's entropy."""
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] * p.size / FLOOR)))


def js(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in nats: 0 for equal densities, JS_MAX (ln 2) for disjoint ones."""
    m = 0.5 * (p + q)

    def half(a):
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / m[mask])))
    return min(JS_MAX, max(0.0, 0.5 * half(p) + 0.5 * half(q)))


def divergences(real: np.ndarray, generated: np.ndarray) -> Tuple[float, float]:
    """(KL(real || generated), JS) of two (N, 2) clouds, on the grid."""
    p, q = density(real), density(generated)
    return kl(p, q), js(p, q)
