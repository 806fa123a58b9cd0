"""``--objective elbo``: ``-E_q[log p(x|z)] + beta * KL(q(z|x) || p(z))`` (beta = 1: the negative ELBO); the default."""

from tfvae.models.objectives.base import Objective, mean_over_samples, register, reported


@register
class ELBO(Objective):
    """The (beta-weighted) ELBO from one posterior draw per example."""

    name = "elbo"
    help = "the ELBO with KL weight --beta (default), one posterior draw per example"
    needs_log_w = False
    weighted = False

    def samples(self, cfg):
        return 1

    def __call__(self, terms, beta, cfg):
        rec = -mean_over_samples(terms["log_px_z"])
        kl = mean_over_samples(terms["kl"])
        return {"loss": rec + beta * kl, "reconstruction_loss": rec, "kl_loss": kl}
