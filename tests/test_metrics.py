"""The metric formulas on inputs with known answers."""

import numpy as np
import pytest

from genlab.eval import metrics


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (20000, 3))
    b = rng.normal(0, 2, (20000, 3)) + np.array([1.0, 0, 0])
    # ||mu||^2 + Tr(I + 4I - 2 * 2I) = 1 + 3 * (1 + 4 - 4) = 4
    assert metrics.frechet_distance(a, b) == pytest.approx(4.0, rel=0.05)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_inception_score_extremes():
    confident = np.eye(10)[np.arange(1000) % 10]
    assert metrics.inception_score(confident) == pytest.approx(10.0, rel=1e-6)
    assert metrics.inception_score(np.full((100, 10), 0.1)) == pytest.approx(1.0)
    collapsed = np.eye(10)[np.zeros(100, dtype=int)]
    assert metrics.inception_score(collapsed) == pytest.approx(1.0)


def test_intra_class_diversity_is_zero_for_copies_and_grows_with_spread():
    labels = np.repeat(np.arange(10), 5)
    copies = np.zeros((50, 4))
    spread = np.random.default_rng(0).normal(size=(50, 4))
    assert all(v == 0 for v in metrics.intra_class_diversity(copies, labels).values())
    assert all(v > 0.5 for v in metrics.intra_class_diversity(spread, labels).values())


def test_evaluate_runs_end_to_end_on_tiny_models_and_the_bundled_sample():
    from genlab.registry import FAMILIES

    from conftest import tiny

    judge = tiny(FAMILIES["judge"]).eval()
    result = metrics.evaluate(FAMILIES["gan"], tiny(FAMILIES["gan"]).eval(), judge, n=100, progress=lambda m: None)
    summary = result["summary"]
    assert summary["FID (judge)"] >= 0 and summary["FID floor"] >= 0
    assert 1 <= summary["inception score"] <= 10 and 0 <= summary["class fidelity"] <= 1
    assert sum(result["predicted_histogram"]) == 100 and len(result["predicted_histogram"]) == 10
    assert "bundled" in result["reference"]
    own = metrics.evaluate(FAMILIES["judge"], judge, None, n=100, progress=lambda m: None)
    assert 0 <= own["summary"]["test accuracy"] <= 1


def synthetic_splits(classes=3, per_class=40, seed=0):
    """A small labelled image set: class c is a bright bar in row band c (so classes differ), plus noise."""
    from genlab.data.labelled_images import ImageSplits, LabelledImages

    rng = np.random.default_rng(seed)
    names = tuple(f"shape {c}" for c in range(classes))

    def split(n, source):
        labels = np.repeat(np.arange(classes), n)
        pictures = rng.integers(0, 40, (len(labels), 28, 28)).astype(np.uint8)
        for i, c in enumerate(labels):
            pictures[i, 4 + 8 * c:8 + 8 * c, 4:24] = 255
        return LabelledImages(pictures, labels, source, names)

    return ImageSplits(split(per_class, "synthetic train"), split(per_class // 2, "synthetic test"))


def test_a_three_class_judge_scores_a_three_class_set_through_evaluate():
    from genlab import weights
    from genlab.registry import FAMILIES

    import torch

    from conftest import TINY

    data = synthetic_splits()
    torch.manual_seed(0)
    judge = weights.build(FAMILIES["judge"], **TINY["judge"], classes=3).eval()
    torch.manual_seed(0)
    gan = weights.build(FAMILIES["gan"], **TINY["gan"], classes=3).eval()
    run = lambda: metrics.evaluate(FAMILIES["gan"], gan, judge, n=60, data=data, progress=lambda m: None)  # noqa: E731
    result = run()
    assert len(result["predicted_histogram"]) == 3 and sum(result["predicted_histogram"]) == 60
    assert set(result["diversity_per_digit_real"]) == {"shape 0", "shape 1", "shape 2"}
    assert set(result["class_fidelity_per_digit"]) <= {"shape 0", "shape 1", "shape 2"}
    assert result["reference"] == "synthetic test" and result["floor_reference"] == "synthetic train"
    summary = result["summary"]
    assert 1 <= summary["inception score"] <= 3 + 1e-9
    for name in metrics.MATCH_FIGURES:
        assert np.isfinite(summary[name]) and np.isfinite(summary[f"{name} (real)"]), name
    assert 0 <= summary["precision"] <= 1 and 0 <= summary["recall (real)"] <= 1
    assert run()["summary"] == summary  # seeded: the same figures every time
    # the judge decides the number of classes: a 10-class judge cannot score a 3-class set
    ten = weights.build(FAMILIES["judge"], **TINY["judge"]).eval()
    with pytest.raises(ValueError, match="judge tells 10 classes apart but the data has 3"):
        metrics.evaluate(FAMILIES["gan"], gan, ten, n=60, data=data, progress=lambda m: None)
    own = metrics.evaluate(FAMILIES["judge"], judge, None, n=60, data=data, progress=lambda m: None)
    assert set(own["accuracy_per_digit"]) == {"shape 0", "shape 1", "shape 2"}


def test_real_mnist_scores_near_the_best_values_and_noise_the_worst_with_the_shipped_judge():
    """The bundled sample (1000 test, 1000 train digits) against itself, its other split and noise."""
    import torch

    from genlab import weights
    from genlab.data import mnist
    from genlab.eval.distribution_metrics import FeatureBins
    from genlab.registry import FAMILIES

    judge = weights.load(FAMILIES["judge"])
    test = metrics.judge_arrays(judge, mnist.to_tensor(mnist.load_sample("test").images))
    train = metrics.judge_arrays(judge, mnist.to_tensor(mnist.load_sample("train").images))
    noise = metrics.judge_arrays(judge, torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    bins = FeatureBins(test["features"])
    same, real, worst = (metrics.match_figures(s, test, bins) for s in (test, train, noise))
    assert same["class KL"] == same["class EMD"] == same["feature KL"] == same["feature EMD"] == 0
    assert same["precision"] == same["recall"] == 1
    assert real["class KL"] < 0.02 and real["class EMD"] < 0.05 and real["feature KL"] < 0.2
    assert real["precision"] > 0.6 and real["recall"] > 0.6  # k=3 balls in 128-d from 1000 digits
    assert worst["precision"] < 0.05 and worst["recall"] < 0.05
    assert worst["class EMD"] > 0.5 and worst["class KL"] > 1 and worst["feature KL"] > 1
    assert worst["feature EMD"] > 10 * real["feature EMD"]
    assert worst["feature entropy"] < real["feature entropy"] - 2
