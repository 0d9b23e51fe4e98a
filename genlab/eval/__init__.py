"""Measurements: image metrics, likelihoods, text scores, comparisons, cards."""
