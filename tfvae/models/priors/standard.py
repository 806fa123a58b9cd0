"""``--prior standard``: N(0, I), the VAE's prior (Kingma & Welling 2014); the default."""

from tfvae.models.priors.base import Prior, register


@register
class StandardPrior(Prior):
    """The standard normal: no variables, a closed-form KL against a Gaussian posterior."""

    name = "standard"
    help = "N(0, I) (the default): a closed-form KL against a Gaussian posterior"
    analytic_kl = True
    learned = False

    def mixture(self, model):
        from tfvae._tf import tf

        d = model.latent_dim
        return tf.zeros([1, d]), tf.zeros([1, d]), tf.zeros([1])

    def log_prob(self, model, z):
        from tfvae.models import densities

        return densities.log_standard_normal(z)

    def sample(self, model, eps, u):
        return eps
