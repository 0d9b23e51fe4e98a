"""`python -m genlab`: train, sample, reconstruct, eval, info, deploy, export, push, readme."""
