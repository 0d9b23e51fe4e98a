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
