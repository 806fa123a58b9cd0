"""``--objective miwae``: the mean of M importance-weighted bounds of k draws each (Rainforth et al., 2018).

``(1/M) sum_m log (1/k) sum_i w_{m,i}``: between the ELBO (k = 1) and IWAE (M = 1); more groups give the
encoder a better gradient signal than one large IWAE bound does.
"""

from tfvae.models.objectives.base import GROUPS, Objective, check_groups, register, reported


def miwae_bound(log_w, groups):
    """``[b]``: the mean over ``groups`` of the IWAE bound of each group's draws (``log_w`` ``[b, groups * k]``)."""
    from tfvae._tf import tf
    from tfvae.models import densities

    b = tf.shape(log_w)[0]
    return tf.reduce_mean(densities.iwae_bound(tf.reshape(log_w, [b, groups, -1])), axis=1)


@register
class MIWAE(Objective):
    """M groups of ``--k`` draws (``--iw_groups``); the loss is minus the mean of the groups' bounds."""

    name = "miwae"
    help = "the mean of --iw_groups M importance-weighted bounds of --k draws each (Rainforth et al. 2018)"
    fields = (GROUPS,)

    def check(self, cfg):
        check_groups(self.name, cfg)

    def samples(self, cfg):
        return cfg.iw_groups * cfg.k

    def __call__(self, terms, beta, cfg):
        return {"loss": -miwae_bound(terms["log_w"], cfg.iw_groups), **reported(terms)}
