"""``--objective iwae``: ``-log (1/k) sum_i p(x, z_i) / q(z_i | x)`` (Burda et al., 2016); ``--beta`` is not used."""

from tfvae.models.objectives.base import Objective, register, reported


@register
class IWAE(Objective):
    """The importance-weighted bound with ``--k`` draws per example (with k = 1 a model trains on the ELBO)."""

    name = "iwae"
    help = "the importance-weighted bound (Burda et al. 2016) with --k draws per example"

    def __call__(self, terms, beta, cfg):
        from tfvae.models import densities

        return {"loss": -densities.iwae_bound(terms["log_w"]), **reported(terms)}
