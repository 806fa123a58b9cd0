"""``--prior mog``: a learned mixture of K diagonal Gaussians, means, variances and weights trained with the model."""

from tfvae.errors import TfvaeError
from tfvae.models.priors.base import COMPONENTS, Prior, register

DEFAULT_COMPONENTS = 10


@register
class MixturePrior(Prior):
    """p(z) = sum_k pi_k N(z; mu_k, diag sigma_k^2), with pi = softmax(logits); means start as N(0, I) draws."""

    name = "mog"
    help = "a learned mixture of K diagonal Gaussians (means, variances and weights), Monte-Carlo KL"
    fields = (COMPONENTS,)

    def check(self, cfg):
        super().check(cfg)
        if cfg.prior_components < 0:
            raise TfvaeError(f"--prior_components must be >= 1, got {cfg.prior_components}")
        cfg.options["prior_components"] = cfg.prior_components or DEFAULT_COMPONENTS

    def components(self, cfg):
        return cfg.prior_components

    def build(self, model, cfg):
        import keras

        from tfvae.models import networks

        k, d = cfg.prior_components, cfg.latent_dim
        model.prior_parameters = networks.Parameters(
            {"means": ((k, d), keras.initializers.RandomNormal(0.0, 1.0, seed=0)),
             "log_vars": ((k, d), "zeros"), "logits": ((k,), "zeros")}, name="prior")

    def mixture(self, model):
        from tfvae._tf import tf

        p = model.prior_parameters
        return p["means"], p["log_vars"], tf.nn.log_softmax(p["logits"])
