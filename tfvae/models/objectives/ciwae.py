"""``--objective ciwae``: a convex combination of the ELBO and the IWAE bound (Rainforth et al., 2018).

``ciwae_beta * mean_i log w_i + (1 - ciwae_beta) * log (1/k) sum_i w_i``, both of the same k draws.
``--ciwae_beta`` is this mixing weight, not ``--beta`` (the ELBO's KL weight, which CIWAE does not use).
"""

from tfvae.errors import TfvaeError
from tfvae.models.objectives.base import Field, Objective, register, reported


@register
class CIWAE(Objective):
    """``--ciwae_beta`` of the k-draw ELBO plus the rest of the k-draw IWAE bound."""

    name = "ciwae"
    help = "--ciwae_beta x the ELBO + (1 - --ciwae_beta) x the IWAE bound, of the same --k draws (Rainforth et al. 2018)"
    fields = (Field("ciwae_beta", 0.5, "weight of the ELBO in the CIWAE bound, in [0, 1] (not --beta; default 0.5)",
                    type="float"),)

    def check(self, cfg):
        if not 0.0 <= cfg.ciwae_beta <= 1.0:
            raise TfvaeError(f"--ciwae_beta must be in [0, 1], got {cfg.ciwae_beta}")

    def __call__(self, terms, beta, cfg):
        from tfvae._tf import tf
        from tfvae.models import densities

        elbo = tf.reduce_mean(terms["log_w"], axis=1)
        bound = cfg.ciwae_beta * elbo + (1.0 - cfg.ciwae_beta) * densities.iwae_bound(terms["log_w"])
        return {"loss": -bound, **reported(terms)}
