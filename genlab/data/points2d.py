"""Toy 2-D data sets for the Playground: a ring, 8 gaussians, two moons, a spiral, a checkerboard,
or points a person clicks ("draw your own").

Every set lives in the square [-DOMAIN, DOMAIN]^2, the area the Playground's pictures show.
A set is a fixed cloud of points drawn once from its shape with a seed; training batches are
drawn from that cloud with replacement, so there are no epochs to think about.
"""

import math
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, Optional, Sequence

import numpy as np
import torch

from genlab.params import RequestError, check_seed

DOMAIN = 2.0  # points lie in [-DOMAIN, DOMAIN]^2
SET_SIZE = 2000  # points in a cloud
MAX_DRAWN = 200  # clicked points one "draw your own" set may hold
MIN_DRAWN = 3
DRAWN_SPREAD = 0.06  # each clicked point becomes a small gaussian blob of this standard deviation
DRAWN = "draw your own"


def ring(n: int, rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0, 2 * math.pi, n)
    radius = 1.2 + 0.05 * rng.standard_normal(n)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)


def eight_gaussians(n: int, rng: np.random.Generator) -> np.ndarray:
    # the mixture GAN papers use to show mode collapse (e.g. Metz et al. 2017, unrolled GANs)
    angle = rng.integers(0, 8, n) * (2 * math.pi / 8)
    centres = 1.3 * np.stack([np.cos(angle), np.sin(angle)], 1)
    return centres + 0.08 * rng.standard_normal((n, 2))


def two_moons(n: int, rng: np.random.Generator) -> np.ndarray:
    # the two interleaved half circles of scikit-learn's make_moons, centred and scaled to the domain
    upper = rng.random(n) < 0.5
    angle = rng.uniform(0, math.pi, n)
    x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x - 0.5, y - 0.25], 1) * 1.4
    return points + 0.06 * rng.standard_normal((n, 2))


def spiral(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.sqrt(rng.uniform(0.04, 1, n))  # sqrt: points spread evenly along the arm, not bunched at the centre
    angle = 3 * math.pi * t
    points = 1.6 * t[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    return points + 0.04 * rng.standard_normal((n, 2))


def checkerboard(n: int, rng: np.random.Generator) -> np.ndarray:
    # 4x4 board over [-1.6, 1.6]^2, the 8 squares whose row + column is even
    squares = np.array([(r, c) for r in range(4) for c in range(4) if (r + c) % 2 == 0])
    chosen = squares[rng.integers(0, len(squares), n)]
    corner = -1.6 + 0.8 * chosen[:, ::-1]
    return corner + 0.8 * rng.random((n, 2))


SHAPES: Dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "ring": ring, "8 gaussians": eight_gaussians, "two moons": two_moons, "spiral": spiral,
    "checkerboard": checkerboard,
}
CHOICES = (*SHAPES, DRAWN)


@dataclass(frozen=True)
class PointSet:
    points: np.ndarray  # (N, 2) float32 in [-DOMAIN, DOMAIN]
    source: str  # which shape, as model cards and status lines name it

    def __len__(self) -> int:
        return len(self.points)


def check_drawn(drawn) -> np.ndarray:
    """Clicked points as an (n, 2) array, refused with a message unless MIN_DRAWN..MAX_DRAWN pairs in the domain."""
    if drawn is None:
        drawn = []
    if not isinstance(drawn, (list, tuple)):
        raise RequestError(f"drawn points must be a list of [x, y] pairs, got {type(drawn).__name__}")
    if len(drawn) > MAX_DRAWN:
        raise RequestError(f"at most {MAX_DRAWN} drawn points, got {len(drawn)}")
    if len(drawn) < MIN_DRAWN:
        raise RequestError(f"click at least {MIN_DRAWN} points on the canvas to draw your own data set "
                           f"(it has {len(drawn)})")
    try:
        points = np.asarray(drawn, dtype=np.float64)
    except (TypeError, ValueError):
        raise RequestError("drawn points must be [x, y] pairs of numbers") from None
    if points.shape != (len(drawn), 2) or not np.isfinite(points).all():
        raise RequestError("drawn points must be [x, y] pairs of finite numbers")
    if np.abs(points).max() > DOMAIN:
        raise RequestError(f"drawn points must lie in [-{DOMAIN:g}, {DOMAIN:g}] on both axes")
    return points


def load_points(split: str = "train", *, download: bool = False, shape: str = "ring",
                drawn: Optional[Sequence] = None, seed: int = 0) -> PointSet:
    """SET_SIZE points of `shape` (one of CHOICES), drawn with `seed`; `split` "test" draws an
    independent cloud. `drawn` (for DRAWN) are the clicked [x, y] points. Nothing is downloaded."""
    if shape not in CHOICES:
        raise RequestError(f"data set must be one of {', '.join(CHOICES)}, got {shape!r}")
    seed = check_seed(seed)
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    if shape == DRAWN:
        centres = check_drawn(drawn)
        points = centres[rng.integers(0, len(centres), SET_SIZE)] + DRAWN_SPREAD * rng.standard_normal((SET_SIZE, 2))
    else:
        points = SHAPES[shape](SET_SIZE, rng)
    return PointSet(np.clip(points, -DOMAIN, DOMAIN).astype(np.float32), shape)


def point_batches(points: PointSet, batch_size: int, *, seed: int = 0, device="cpu", skip: int = 0) -> Iterator[torch.Tensor]:
    """Endless (B, 2) batches drawn with replacement from the cloud; `skip` batches are passed over
    first, so a resumed run sees the batches an uninterrupted one would have."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    cloud = torch.from_numpy(points.points).to(device)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(skip):
        torch.randint(0, len(cloud), (batch_size,), generator=generator)
    while True:
        yield cloud[torch.randint(0, len(cloud), (batch_size,), generator=generator).to(device)]
