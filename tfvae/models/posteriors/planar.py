"""``--posterior planar``: T planar flows (Rezende & Mohamed 2015) on the Gaussian's draws, amortised over x.

Step t: ``z' = z + u_hat * tanh(w . z + b)``, ``log |det| = log |1 + (u_hat . w) (1 - tanh^2(w . z + b))|``.
``u, w, b`` come from the context (the encoder's ``[mean, log_var]``) through one dense layer. Invertibility
needs ``w . u_hat > -1``: ``u_hat = g u + (m(w . g u) - w . g u) w / |w|^2`` with ``m(a) = softplus(a + log(e - 1))
- 1 > -1``, shifted from the paper's so that ``m(0) = 0``. The gate ``g`` (one per step) is initialised to
zero, so ``u_hat = 0`` and every step starts as the identity, for any ``g`` invertible.
"""

import math

from tfvae.models.posteriors.base import STEPS, Posterior, register

SHIFT = math.log(math.e - 1.0)  # softplus(SHIFT) = 1


@register
class PlanarFlow(Posterior):
    """T amortised planar steps."""

    name = "planar"
    help = "--flow_steps planar flows (Rezende & Mohamed 2015), amortised over x, starting as the identity"
    fields = (STEPS,)

    def build(self, model, cfg):
        from tfvae.models import networks

        d, t = cfg.latent_dim, cfg.flow_steps
        model.posterior_parameters = networks.FlowParameters(
            {"planar": (2 * d, t * (2 * d + 1), "glorot_uniform")}, {"gate": ((t,), "zeros")},
            name="posterior")

    def transform(self, model, z0, context):
        from tfvae._tf import tf

        p = model.posterior_parameters
        d, steps = model.latent_dim, model.config.flow_steps
        params = tf.reshape(p.dense("planar", context), [-1, steps, 2 * d + 1])
        z, log_det = z0, tf.zeros(tf.shape(z0)[:1])
        for t in range(steps):
            u = p["gate"][t] * params[:, t, :d]
            w, b = params[:, t, d : 2 * d], params[:, t, 2 * d]
            wu = tf.reduce_sum(w * u, axis=-1, keepdims=True)
            m = tf.nn.softplus(wu + SHIFT) - 1.0
            u_hat = u + (m - wu) * w / (tf.reduce_sum(tf.square(w), axis=-1, keepdims=True) + 1e-8)
            h = tf.tanh(tf.reduce_sum(w * z, axis=-1) + b)
            z = z + u_hat * h[:, None]
            psi_u = (1.0 - tf.square(h)) * tf.reduce_sum(w * u_hat, axis=-1)
            log_det += tf.math.log(tf.abs(1.0 + psi_u) + 1e-8)
        return z, log_det
