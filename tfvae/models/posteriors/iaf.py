"""``--posterior iaf``: T inverse autoregressive flow steps (Kingma et al. 2016) with the encoder's context.

Step t: a MADE network (masked dense layers, Germain et al. 2015) reads ``z`` and the context ``h`` (the
encoder's ``[mean, log_var]``) and gives, for each dimension i, ``m_i`` and ``s_i`` from ``z_<i`` only;
``z'_i = z_i * exp(s_i) + m_i`` (the affine form), ``log |det| = sum_i s_i``. The MADE's output layer is
zero-initialised, so each step starts as the identity. The order of the dimensions is reversed between steps.
"""

from tfvae.models.posteriors.base import STEPS, Posterior, register

HIDDEN_FACTOR = 2  # MADE hidden width: 2 x latent_dim
S_BOUND = 5.0  # |s| bounded softly (bound * tanh(s / bound)): no step scales by more than e^5


@register
class IAF(Posterior):
    """T MADE steps with context."""

    name = "iaf"
    help = "--flow_steps inverse autoregressive flow steps (Kingma et al. 2016, MADE with the encoder's context)"
    fields = (STEPS,)

    def build(self, model, cfg):
        from tfvae.models import networks

        model.posterior_parameters = networks.MADEStack(cfg.latent_dim, 2 * cfg.latent_dim,
                                                        HIDDEN_FACTOR * cfg.latent_dim, cfg.flow_steps,
                                                        name="posterior")

    def transform(self, model, z0, context):
        from tfvae._tf import tf

        z, log_det = z0, tf.zeros(tf.shape(z0)[:1])
        for t in range(model.config.flow_steps):
            m, s = model.posterior_parameters.step(t, z, context)
            s = S_BOUND * tf.tanh(s / S_BOUND)
            z = z * tf.exp(s) + m
            log_det += tf.reduce_sum(s, axis=-1)
            z = tf.reverse(z, axis=[-1])
        if model.config.flow_steps % 2:  # back to the encoder's order of dimensions
            z = tf.reverse(z, axis=[-1])
        return z, log_det
