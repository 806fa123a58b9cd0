"""Training objectives from per-sample terms: the ELBO with a KL weight, and the importance-weighted bound.

Both take the terms a model computes for ``k`` posterior samples per example
(``log_px_z`` ``[b, k]``, ``kl`` ``[b]`` or ``[b, k]``, and for IWAE ``log_w``
``[b, k]``) and return per-example ``loss``, ``reconstruction_loss`` and
``kl_loss`` in nats.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
from tfvae.models import densities


def _mean_over_samples(t):
    return t if t.shape.rank == 1 else tf.reduce_mean(t, axis=1)


class ELBO:
    """``-E_q[log p(x|z)] + beta * KL(q(z|x) || p(z))`` (beta = 1: the negative ELBO)."""

    needs_log_w = False

    def __call__(self, terms, beta, k):
        rec = -_mean_over_samples(terms["log_px_z"])
        kl = _mean_over_samples(terms["kl"])
        return {"loss": rec + beta * kl, "reconstruction_loss": rec, "kl_loss": kl}


class IWAE:
    """``-log (1/k) sum_i p(x, z_i) / q(z_i | x)`` (Burda et al., 2016); beta is not used.

    ``reconstruction_loss`` and ``kl_loss`` are reported as for the ELBO, for comparison.
    """

    needs_log_w = True

    def __call__(self, terms, beta, k):
        return {"loss": -densities.iwae_bound(terms["log_w"]),
                "reconstruction_loss": -_mean_over_samples(terms["log_px_z"]), "kl_loss": _mean_over_samples(terms["kl"])}


# --objective name -> objective (config.OBJECTIVES names them). With k = 1 sample the
# importance-weighted bound is the ELBO; models then train on ELBO (with its beta).
OBJECTIVES = {"elbo": ELBO(), "iwae": IWAE()}


def for_config(cfg):
    """The objective a model of config ``cfg`` trains on."""
    return OBJECTIVES[cfg.objective if cfg.samples_per_example > 1 else "elbo"]
