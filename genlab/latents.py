"""Working in a VAE's latent space: encode digits, interpolate, and map the space onto a plane.

The map is exact when the latent is 2-D; otherwise it is the plane of the first two principal
components of the test set's encodings (fixed per model, so the same digit lands in the same
place every time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from genlab import data
from genlab.lazy import lazy
from genlab.params import check_value
from genlab.sampling import INTERPOLATION_STEPS, slerp

# the app reads the bounds here before torch has loaded
torch = lazy("torch")
common = lazy("genlab.models.common")

INTERPOLATION_MODES = ("spherical", "linear")


def encode(model, images: np.ndarray) -> torch.Tensor:
    """(N, 28, 28) uint8 -> posterior means (N, latent_dim) on the CPU."""
    with common.evaluating(model):
        batches = [model.encode(chunk.to(common.model_device(model)))[0].cpu()
                   for chunk in data.to_tensor(images).split(1000)]
    return torch.cat(batches)


def reconstruct(model, images: np.ndarray) -> torch.Tensor:
    """Decoder means for the posterior means of (N, 28, 28) uint8 digits: (N, 1, 28, 28) in [-1, 1]."""
    with common.evaluating(model):
        return model.decode(encode(model, images)).cpu()


def check_path(steps, mode) -> Tuple[int, str]:
    """Validated (steps, mode) of an interpolation request."""
    steps = check_value("steps", steps, int, *INTERPOLATION_STEPS)
    return steps, check_value("interpolation", mode, str, choices=INTERPOLATION_MODES)


def path(z_a: torch.Tensor, z_b: torch.Tensor, steps, mode: str) -> torch.Tensor:
    """`steps` latents from z_a to z_b (each (1, D)): straight ('linear') or great-circle ('spherical')."""
    steps, mode = check_path(steps, mode)
    t = torch.linspace(0, 1, steps)[:, None]
    return slerp(z_a, z_b, t) if mode == "spherical" else (1 - t) * z_a + t * z_b


@dataclass(frozen=True)
class Plane:
    """An affine 2-D view of the latent space: z = origin + u * axes[0] + v * axes[1]."""

    origin: torch.Tensor  # (D,)
    axes: torch.Tensor  # (2, D), orthonormal
    spread: torch.Tensor  # (2,), standard deviation of the test encodings along each axis
    exact: bool  # the latent is 2-D: the plane is the whole space

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, 2)"""
        return (z - self.origin) @ self.axes.T

    def lift(self, uv: torch.Tensor) -> torch.Tensor:
        """(N, 2) -> (N, D): the latent at plane coordinates uv (the mean along unseen directions)."""
        return self.origin + uv @ self.axes


def plane_of(encodings: torch.Tensor) -> Plane:
    """The exact plane for 2-D latents, else the top-two principal components of the encodings."""
    z = encodings.double()
    d = z.shape[1]
    if d == 2:
        origin, axes = torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64)
    else:
        origin = z.mean(0)
        _, vectors = torch.linalg.eigh(torch.cov((z - origin).T))
        axes = vectors[:, [-1, -2]].T  # largest variance first
        axes = axes * torch.sign(axes[:, :1] + 1e-12)  # fix the sign so the map never flips
    spread = ((z - origin) @ axes.T).std(0)
    return Plane(origin.float(), axes.float(), spread.float(), d == 2)


def manifold(model, plane: Plane, size: int = 15, extent: float = 2.5) -> torch.Tensor:
    """Decode a size x size grid over the plane, +-`extent` standard deviations: (size^2, 1, 28, 28)."""
    ticks = torch.linspace(-extent, extent, size)
    v, u = torch.meshgrid(-ticks, ticks, indexing="ij")  # rows top to bottom = v descending, like a plot
    uv = torch.stack([u.reshape(-1) * plane.spread[0], v.reshape(-1) * plane.spread[1]], dim=1)
    with common.evaluating(model):
        return model.decode(plane.lift(uv)).cpu()


def grid_position(plane: Plane, uv: torch.Tensor, size: int = 15, extent: float = 2.5) -> Optional[tuple]:
    """Row and column of the manifold grid nearest to plane coordinates uv (2,), or None when outside."""
    scaled = uv / plane.spread / extent  # -1..1 inside the grid
    if scaled.abs().max() > 1:
        return None
    col = int(round((float(scaled[0]) + 1) / 2 * (size - 1)))
    row = int(round((1 - float(scaled[1])) / 2 * (size - 1)))
    return row, col
