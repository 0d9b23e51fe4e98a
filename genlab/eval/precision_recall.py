"""Improved precision and recall (Kynkaanniemi et al. 2019), in the judge's feature space.

Each set's manifold is the union of balls around its points, each ball reaching that point's
NEIGHBOURS-th nearest neighbour within the same set. Precision is the share of generated points
inside the real manifold (are the samples realistic?); recall is the share of real points inside
the generated manifold (is all of the real data covered?). Both lie in [0, 1]; higher is better.
"""

from typing import Dict, Optional

import numpy as np
import torch

NEIGHBOURS = 3  # k of the paper's k-NN radii (their default)
CHUNK = 1024  # rows of the distance matrix held at once: CHUNK x N float64


def knn_radii(points: torch.Tensor, k: int = NEIGHBOURS) -> torch.Tensor:
    """(N,) distance from each point to its k-th nearest other point of the same set."""
    k = min(k, len(points) - 1)
    # the smallest distance in each row is the point to itself (0), so take k + 1 and keep the last
    return torch.cat([torch.cdist(chunk, points).topk(k + 1, dim=1, largest=False).values[:, -1]
                      for chunk in points.split(CHUNK)])


def coverage(queries: torch.Tensor, points: torch.Tensor, radii: torch.Tensor) -> float:
    """Share of `queries` (Q, F) within radii[j] of some points[j] ((N, F), (N,))."""
    inside = [(torch.cdist(chunk, points) <= radii[None, :]).any(1) for chunk in queries.split(CHUNK)]
    return float(torch.cat(inside).double().mean())


def as_points(features: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(features, dtype=np.float64))


def precision_recall(fake: np.ndarray, real: np.ndarray, real_radii: Optional[torch.Tensor] = None) -> Dict[str, float]:
    """Precision and recall of the (N, F) generated features against the (M, F) real ones; `real_radii`:
    knn_radii of the real points, when already known (several sets scored against one reference)."""
    fake_t, real_t = as_points(fake), as_points(real)
    real_radii = knn_radii(real_t) if real_radii is None else real_radii
    return {"precision": coverage(fake_t, real_t, real_radii), "recall": coverage(real_t, fake_t, knn_radii(fake_t))}
