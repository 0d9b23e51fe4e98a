"""How well the generated distribution matches the real one, and how varied it is, in the judge's eyes.

- class KL: KL(real || generated) between the judge's predicted-class histograms, the mode-histogram
  KL of Metz et al. 2017 (Unrolled GANs) with the judge as mode classifier. This direction is large
  when the generator drops classes the real data has. Both histograms get KT_PSEUDOCOUNT per class
  (the Krichevsky-Trofimov estimator), so an empty class gives a large but finite value.
- class EMD: the earth mover's distance between the same histograms with ground distance 1 between
  any two different classes (classes have no order), which equals their total variation distance
  0.5 * sum |p - q| (Rubner et al. 2000 with a 0/1 metric); in [0, 1].
- feature KL and feature entropy: the judge features are put in bins by their nearest of CLUSTERS
  k-means centroids fitted on the real reference features (the bins of the NDB test, Richardson &
  Weiss 2018, "On GANs and GMMs"). Feature KL is KL(real || generated) between the bin histograms,
  smoothed as above; feature entropy is the Shannon entropy, in bits, of the generated bin histogram
  (at most log2 CLUSTERS: every bin used equally; low when samples crowd into a few modes).
- feature EMD: the sliced Wasserstein-1 distance (Rabin et al. 2011; Bonneel et al. 2015): the
  mean, over PROJECTIONS random unit directions drawn with a fixed seed, of the exact 1-D EMD
  between the projected feature sets. It converges to the sliced distance as PROJECTIONS grows; a
  fixed seed makes every figure repeatable. In judge feature units.
"""

from typing import Dict

import numpy as np
import torch

KT_PSEUDOCOUNT = 0.5  # added to every histogram bin before normalising
CLUSTERS = 50  # k-means bins for the feature histograms (five per digit on MNIST)
KMEANS_ITERATIONS = 25  # Lloyd steps after k-means++ seeding
PROJECTIONS = 128  # random directions of the sliced EMD


def histogram(values: np.ndarray, bins: int) -> np.ndarray:
    """(bins,) probabilities of the integer `values` in 0 .. bins - 1, KT-smoothed."""
    counts = np.bincount(values, minlength=bins).astype(np.float64) + KT_PSEUDOCOUNT
    return counts / counts.sum()


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in nats for two smoothed (positive) histograms of the same length."""
    return float(np.sum(p * (np.log(p) - np.log(q))))


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """The EMD between histograms over unordered classes (ground distance 1 between different ones)."""
    return float(0.5 * np.abs(p - q).sum())


def entropy_bits(p: np.ndarray) -> float:
    return float(-np.sum(p * np.log2(p)))


def wasserstein_1d(u: np.ndarray, v: np.ndarray) -> float:
    """Exact W1 between two 1-D samples of any sizes: the integral of |F_u - F_v| (as scipy.stats computes it)."""
    u, v = np.sort(u), np.sort(v)
    everything = np.sort(np.concatenate([u, v]))
    widths = np.diff(everything)
    cdf_u = np.searchsorted(u, everything[:-1], side="right") / len(u)
    cdf_v = np.searchsorted(v, everything[:-1], side="right") / len(v)
    return float(np.sum(np.abs(cdf_u - cdf_v) * widths))


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> float:
    """Mean 1-D W1 between (N, F) and (M, F) projected on PROJECTIONS seeded random unit directions."""
    directions = np.random.default_rng(seed).normal(size=(a.shape[1], PROJECTIONS))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)  # (F, P)
    pa, pb = a @ directions, b @ directions  # (N, P), (M, P)
    return float(np.mean([wasserstein_1d(pa[:, i], pb[:, i]) for i in range(PROJECTIONS)]))


def nearest(points: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """(N,) index of each point's nearest centroid, in chunks so the distance matrix stays small."""
    return torch.cat([torch.cdist(chunk, centroids).argmin(1) for chunk in points.split(2048)])


def kmeans(features: np.ndarray, clusters: int, *, seed: int = 0) -> np.ndarray:
    """(clusters, F) centroids: k-means++ seeding (Arthur & Vassilvitskii 2007), then Lloyd's steps."""
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float64))
    generator = torch.Generator().manual_seed(seed)
    clusters = min(clusters, len(x))
    centroids = x[torch.randint(len(x), (1,), generator=generator)]
    closest = torch.cdist(x, centroids).squeeze(1) ** 2  # (N,) squared distance to the nearest centroid so far
    for _ in range(1, clusters):
        if closest.sum() <= 0:  # fewer distinct points than clusters: reuse one
            pick = torch.randint(len(x), (1,), generator=generator)
        else:
            pick = torch.multinomial(closest, 1, generator=generator)
        centroids = torch.cat([centroids, x[pick]])
        closest = torch.minimum(closest, ((x - x[pick]) ** 2).sum(1))
    for _ in range(KMEANS_ITERATIONS):
        owner = nearest(x, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, owner, x)
        counts = torch.bincount(owner, minlength=len(centroids)).double()[:, None]
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)  # an empty cluster stays put
    return centroids.numpy()


def bins_of(features: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    return nearest(torch.from_numpy(np.ascontiguousarray(features, dtype=np.float64)),
                   torch.from_numpy(centroids)).numpy()


def class_figures(fake_probs: np.ndarray, real_probs: np.ndarray) -> Dict[str, float]:
    """Class KL and class EMD of the judge's verdicts on generated vs real images ((N, C) and (M, C))."""
    classes = real_probs.shape[1]
    p, q = histogram(real_probs.argmax(1), classes), histogram(fake_probs.argmax(1), classes)
    return {"class KL": kl_divergence(p, q), "class EMD": total_variation(p, q)}


class FeatureBins:
    """The k-means bins of a real reference feature set, to compare others against."""

    def __init__(self, reference: np.ndarray, *, seed: int = 0):
        self.centroids = kmeans(reference, CLUSTERS, seed=seed)
        self.reference = histogram(bins_of(reference, self.centroids), len(self.centroids))

    def figures(self, features: np.ndarray) -> Dict[str, float]:
        """Feature KL (reference || features) and the feature entropy of `features` (N, F)."""
        mine = histogram(bins_of(features, self.centroids), len(self.centroids))
        return {"feature KL": kl_divergence(self.reference, mine), "feature entropy": entropy_bits(mine)}


def distribution_figures(fake: Dict[str, np.ndarray], real: Dict[str, np.ndarray], bins: FeatureBins,
                         *, seed: int = 0) -> Dict[str, float]:
    """Every figure of this module for one {features, probs} set against the real reference set."""
    return {**class_figures(fake["probs"], real["probs"]), **bins.figures(fake["features"]),
            "feature EMD": sliced_wasserstein(fake["features"], real["features"], seed=seed)}
