"""`python -m genlab`: train, sample, reconstruct, eval, info, deploy, readme."""
