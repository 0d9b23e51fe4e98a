"""Flow matching on 2-D points (Lipman et al. 2023; the straight paths of Liu et al. 2023's rectified flow).

A network learns a velocity field v(x, t) over the plane for every time t in [0, 1]. Training
picks noise x0 ~ N(0, I), a data point x1 and a time t, puts the point x_t = (1 - t) x0 + t x1 on
the straight line between them and asks v(x_t, t) to equal the line's direction x1 - x0 (the
conditional flow matching loss, eq. 23 of Lipman et al. with sigma_min = 0). Sampling follows the
field from noise at t = 0 to data at t = 1 with Euler steps.
"""

import math
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch

from genlab.models.base import GenerativeModel
from genlab.models.playground.mlp import mlp
from genlab.params import param

TIME_FEATURES = 4  # t enters as sin and cos of 2 frequencies, so the net can bend sharply in time


@dataclass
class PointFlowConfig:
    sample_steps: int = param(20, "Euler steps from noise (t = 0) to data (t = 1) when sampling", 2, 200,
                              basic=True)
    width: int = param(64, "units per hidden layer of the velocity network", 4, 256, basic=True)
    depth: int = param(3, "hidden layers of the velocity network", 1, 4)


def time_features(t: torch.Tensor) -> torch.Tensor:
    """(B,) times in [0, 1] -> (B, TIME_FEATURES)"""
    angles = t[:, None] * torch.tensor([math.pi / 2, math.pi], device=t.device)  # (B, 2)
    return torch.cat([angles.sin(), angles.cos()], 1)


class PointFlow(GenerativeModel):
    def __init__(self, config: PointFlowConfig):
        super().__init__()
        self.config = config
        self.net = mlp(2 + TIME_FEATURES, config.width, config.depth, 2)

    def velocity(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """points (B, 2), times (B,) -> velocities (B, 2)"""
        return self.net(torch.cat([x, time_features(t)], 1))

    def loss(self, x1: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
        x0 = torch.randn_like(x1)
        t = torch.rand(len(x1), device=x1.device)
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        loss = ((self.velocity(xt, t) - (x1 - x0)) ** 2).sum(1).mean()
        return loss, {}

    def trajectories(self, x0: torch.Tensor, steps: Optional[int] = None) -> torch.Tensor:
        """Euler integration from x0 (B, 2) at t = 0 -> every position (steps + 1, B, 2), data at the end."""
        steps = steps or self.config.sample_steps
        path = [x0]
        for i in range(steps):
            t = torch.full((len(x0),), i / steps, device=x0.device)
            path.append(path[-1] + self.velocity(path[-1], t) / steps)
        return torch.stack(path)

    def sample(self, n: int, *, generator: torch.Generator, labels=None, truncation=None) -> torch.Tensor:
        x0 = torch.randn(n, 2, generator=generator).to(next(self.parameters()).device)
        return self.trajectories(x0)[-1]
