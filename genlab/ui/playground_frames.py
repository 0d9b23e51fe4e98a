"""One frame of the Playground per family: the data plane and a second plane that shows the model's
inside (the GAN's noise square, the VAE's latent plane, the flow's sample paths), and the samples
drawn for it, which the KL/JS chart compares with the data. Families plug in through FRAMES."""

import math
from dataclasses import dataclass
from typing import Callable, Dict

import numpy as np
import torch

from genlab.data.points2d import DOMAIN
from genlab.ui.playground_views import (AXES, COLUMNS, FAKE, REAL, ROWS, PointPlane, grid_lines, grid_points, heat_map,
                                        hues)

REAL_SHOWN = 600  # data points drawn (all of them would hide the samples)
HEAT_CELLS = 48  # D is evaluated on a HEAT_CELLS^2 grid, then the picture is smoothly enlarged
SAMPLES = 1000  # samples drawn (and compared with the data) per frame
PROBES = 36  # data points whose VAE posteriors are drawn
PATHS = 48  # flow trajectories drawn
ARROWS = 17  # flow arrows per side


@dataclass(frozen=True)
class PlaygroundFrame:
    main: np.ndarray  # (H, W, 3) the data plane
    side: np.ndarray  # (H, W, 3) the model's inside
    samples: np.ndarray  # (N, 2) the model's samples shown


def faded(colour, alpha: int):
    return tuple(colour[:3]) + (alpha,)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def relative(s: np.ndarray) -> np.ndarray:
    """Scores with no fixed scale, centred on the plane's mean and scaled to its largest gap."""
    return 0.5 + 0.5 * (s - s.mean()) / (np.abs(s - s.mean()).max() + 1e-8)


# how each GAN objective's raw D scores read as "how real": 0 looks generated, 1 looks real
REALNESS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "non-saturating": lambda s: 1 / (1 + np.exp(-s)),  # D's probability that the point is real
    "least-squares": lambda s: s,  # D regresses real points to 1, generated ones to 0
    "hinge": lambda s: (s + 1) / 2,  # the margins sit at +1 (real) and -1 (generated)
    "wasserstein": relative,  # only differences of critic values mean anything
}


def gan_frame(model, data, noise: torch.Generator, time: float) -> PlaygroundFrame:
    with torch.no_grad():
        cells = torch.from_numpy(grid_points(DOMAIN, HEAT_CELLS))
        realness = REALNESS.get(model.config.objective, relative)(_np(model.critic(cells)).astype(np.float64))
        rows, columns = grid_lines(1.0)
        warped_rows = _np(model.generate(torch.from_numpy(rows).reshape(-1, 2))).reshape(rows.shape)
        warped_columns = _np(model.generate(torch.from_numpy(columns).reshape(-1, 2))).reshape(columns.shape)
        z = model.noise(SAMPLES, noise)
        samples = _np(model.generate(z))
    background = heat_map(realness.reshape(HEAT_CELLS, HEAT_CELLS))
    main = (PointPlane(DOMAIN, background=background, title="data: D's map (green: looks real), G's grid")
            .axes().polylines(warped_rows, ROWS).polylines(warped_columns, COLUMNS)
            .points(data.points[:REAL_SHOWN], faded(REAL, 200), 1.6).points(samples, faded(FAKE, 200), 2.3))
    side = (PointPlane(1.25, title="noise z: the square G folds onto the data").axes()
            .polylines(rows, ROWS).polylines(columns, COLUMNS).points(_np(z), faded(FAKE, 120), 1.5))
    return PlaygroundFrame(main.picture(), side.picture(), samples)


def vae_frame(model, data, noise: torch.Generator, time: float) -> PlaygroundFrame:
    probes = data.points[np.linspace(0, len(data.points) - 1, PROBES).astype(int)]
    colours = hues(np.mod(np.arctan2(probes[:, 1], probes[:, 0]) / (2 * math.pi) + np.hypot(*probes.T) * 0.15, 1.0))
    with torch.no_grad():
        mu, log_var = model.encode(torch.from_numpy(probes))
        rows, columns = grid_lines(2.5)
        mapped_rows = _np(model.decode(torch.from_numpy(rows).reshape(-1, 2))).reshape(rows.shape)
        mapped_columns = _np(model.decode(torch.from_numpy(columns).reshape(-1, 2))).reshape(columns.shape)
        samples = _np(model.sample(SAMPLES, generator=noise))
    main = (PointPlane(DOMAIN, title="data: samples, and the decoder's image of the latent grid").axes()
            .polylines(mapped_rows, ROWS).polylines(mapped_columns, COLUMNS)
            .points(data.points[:REAL_SHOWN], faded(REAL, 150), 1.6).points(samples, faded(FAKE, 170), 2.3)
            .coloured_points(probes, colours, 3.5))
    side = (PointPlane(3.0, title="latent z: q(z|x) of the coloured points").axes()
            .polylines(rows, faded(ROWS, 70)).polylines(columns, faded(COLUMNS, 70))
            .circle(1.0, AXES).circle(2.0, AXES)
            .ellipses(_np(mu), _np((0.5 * log_var).exp()), colours))
    side.label("grey circles: the prior N(0, I) at 1 and 2 sd", "bottom")
    return PlaygroundFrame(main.picture(), side.picture(), samples)


def flow_frame(model, data, noise: torch.Generator, time: float) -> PlaygroundFrame:
    x0 = torch.randn(SAMPLES, 2, generator=noise)
    steps = model.config.sample_steps
    with torch.no_grad():
        path = _np(model.trajectories(x0, steps))  # (steps + 1, N, 2)
        starts = torch.from_numpy(grid_points(DOMAIN, ARROWS))
        field = _np(model.velocity(starts, torch.full((len(starts),), time)))
    now = path[round(time * steps)]
    # arrows show where a point at each place moves in the next 1/8 of the time, longest cut to one grid cell
    vectors = field / 8
    longest = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors * np.minimum(1, (2 * DOMAIN / ARROWS) / np.maximum(longest, 1e-8))
    main = (PointPlane(DOMAIN, title=f"the field v(x, t) at t = {time:.2f} and the samples then").axes()
            .points(data.points[:REAL_SHOWN], faded(REAL, 110), 1.6).points(now, faded(FAKE, 190), 2.3)
            .arrows(_np(starts), vectors, (30, 41, 59, 190), 1))
    shown = path[:, :PATHS]
    side = (PointPlane(DOMAIN, title="paths from noise (grey, t = 0) to data (t = 1)").axes()
            .points(data.points[:REAL_SHOWN], faded(REAL, 90), 1.6)
            .polylines(np.transpose(shown, (1, 0, 2)), faded(FAKE, 120))
            .points(shown[0], (120, 120, 120, 230), 2.2).points(shown[-1], FAKE, 2.5))
    return PlaygroundFrame(main.picture(), side.picture(), path[-1])


FRAMES: Dict[str, Callable[..., PlaygroundFrame]] = {"gan": gan_frame, "vae": vae_frame, "flow": flow_frame}
