"""Distribution match, feature entropy and precision/recall: best on real vs real, worst on noise, seeded."""

import numpy as np
import pytest

from genlab.eval import distribution_metrics as dm
from genlab.eval.precision_recall import precision_recall


def blobs(n, seed, classes=5, dim=8):
    """(n, dim) points around `classes` well-separated centres, and one-hot class probabilities (n, classes)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 10, (classes, dim))
    labels = rng.integers(0, classes, n)
    return {"features": centres[labels] + rng.normal(0, 1, (n, dim)), "probs": np.eye(classes)[labels]}


def figures(fake, real, seed=0):
    bins = dm.FeatureBins(real["features"], seed=seed)
    return {**dm.distribution_figures(fake, real, bins, seed=seed), **precision_recall(fake["features"], real["features"])}


def test_a_set_against_itself_scores_the_best_value_of_every_figure():
    real = blobs(600, seed=0)
    same = figures(real, real)
    assert same["class KL"] == same["class EMD"] == same["feature KL"] == same["feature EMD"] == 0
    assert same["precision"] == same["recall"] == 1


def test_two_samples_of_one_distribution_sit_near_the_best_values():
    # in few dimensions, where k-NN balls (k=3) estimate the manifold closely from 3000 points
    near = figures(blobs(3000, seed=1, dim=2), blobs(3000, seed=2, dim=2))
    assert near["class KL"] < 0.01 and near["class EMD"] < 0.05 and near["feature KL"] < 0.05
    assert near["feature EMD"] < 0.2  # blobs spread over about 10 units
    assert near["precision"] > 0.9 and near["recall"] > 0.9
    assert near["feature entropy"] == pytest.approx(np.log2(dm.CLUSTERS), abs=0.3)


def test_noise_scores_the_worst_values():
    real = blobs(1000, seed=0)
    rng = np.random.default_rng(5)
    noise = {"features": rng.uniform(200, 201, (1000, 8)), "probs": np.eye(5)[np.zeros(1000, dtype=int)]}
    worst = figures(noise, real)
    assert worst["precision"] == 0 and worst["recall"] == 0
    assert worst["class EMD"] == pytest.approx(0.8, abs=0.05)  # everything called one of five classes
    assert worst["class KL"] > 4 and worst["feature KL"] > 2  # log of the smoothing's odds: large, finite
    assert worst["feature EMD"] > 100
    assert worst["feature entropy"] < 0.5  # all in one or two bins, out of log2(50) = 5.6 bits


def test_every_figure_repeats_with_the_seed_and_the_projections_depend_on_it():
    fake, real = blobs(500, seed=3), blobs(500, seed=4)
    assert figures(fake, real, seed=7) == figures(fake, real, seed=7)
    assert dm.sliced_wasserstein(fake["features"], real["features"], seed=1) != \
        dm.sliced_wasserstein(fake["features"], real["features"], seed=2)


def test_one_dimensional_emd_matches_known_answers():
    x = np.random.default_rng(0).normal(size=1000)
    assert dm.wasserstein_1d(x, x + 3.0) == pytest.approx(3.0)
    assert dm.wasserstein_1d(np.array([0.0, 1.0]), np.array([0.0, 0.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert dm.wasserstein_1d(np.array([0.0]), np.array([1.0, 3.0])) == pytest.approx(2.0)


def test_class_emd_is_total_variation_and_kl_direction_punishes_missing_classes():
    real = np.eye(4)[np.repeat(np.arange(4), 100)]
    dropped = np.eye(4)[np.repeat(np.arange(2), 200)]  # two classes missing
    figures = dm.class_figures(dropped, real)
    assert figures["class EMD"] == pytest.approx(0.5, abs=0.01)
    p, q = dm.histogram(real.argmax(1), 4), dm.histogram(dropped.argmax(1), 4)
    assert figures["class KL"] == pytest.approx(dm.kl_divergence(p, q)) and figures["class KL"] > dm.kl_divergence(q, p)


def test_kmeans_finds_well_separated_clusters():
    data = blobs(500, seed=0, classes=5)
    centroids = dm.kmeans(data["features"], 5, seed=0)
    owners = dm.bins_of(data["features"], centroids)
    labels = data["probs"].argmax(1)
    for c in range(5):  # each true cluster lands in a single bin
        assert len(np.unique(owners[labels == c])) == 1
    assert len(np.unique(owners)) == 5
