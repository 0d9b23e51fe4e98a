"""`python -m genlab`: train, sample, eval, info, deploy."""
