"""Honest evaluation: ``estimator`` (the importance-weighted estimate over a split), ``report`` (how the
numbers are shown), ``run`` (``tfvae eval``)."""
