"""The two-stochastic-layer VAE (Burda et al., 2016): q(z1|x) q(z2|z1), p(z2) p(z1|z2) p(x|z1).

``latent_dim`` is the top layer z2, the one with the N(0, I) prior that
sampling and the exported decoder take; ``latent_dim1`` the bottom one.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae.models import densities
from tfvae.models import networks, registry
from tfvae.models.vae import VAE

# Bound of |log-variance| of p(z1 | z2), softly (bound * tanh(raw / bound)).
PRIOR_LOG_VAR_BOUND = 8.0


@registry.register("vae2")
class HierarchicalVAE(VAE):
    """Two stochastic layers; decoding a top z goes through the mean of ``p(z1 | z2)``."""

    def build_networks(self, cfg, out_channels):
        # encoder: x -> z1 stats; encoder2: z1 -> z2 stats; prior1: z2 -> p(z1|z2) stats; decoder: z1 -> x.
        d1, d2 = cfg.latent_dim1, cfg.latent_dim
        self.encoder = networks.build_encoder(cfg, 2 * d1)
        self.encoder2 = networks.build_dense_net(cfg, "encoder2", d1, cfg.hidden2, 2 * d2)
        self.prior1 = networks.build_dense_net(cfg, "prior1", d2, tuple(reversed(cfg.hidden2)), 2 * d1)
        self.decoder = networks.build_decoder(cfg, out_channels, latent=d1)

    def _bottom(self, x, training):
        """Mean and log-variance of ``q(z1 | x)``."""
        return tf.split(tf.cast(self.encoder(tf.cast(x, tf.float32), training=training), tf.float32), 2, axis=-1)

    def _top(self, z1, training):
        """Mean and log-variance of ``q(z2 | z1)``."""
        return tf.split(tf.cast(self.encoder2(z1, training=training), tf.float32), 2, axis=-1)

    def _prior1(self, z2, training=False):
        """Mean and (softly bounded) log-variance of ``p(z1 | z2)``."""
        mean, raw = tf.split(tf.cast(self.prior1(z2, training=training), tf.float32), 2, axis=-1)
        return mean, PRIOR_LOG_VAR_BOUND * tf.tanh(raw / PRIOR_LOG_VAR_BOUND)

    def encode(self, x, labels=None, training=False):
        """``q(z2 | z1)`` at the mean of ``q(z1 | x)``."""
        z1_mean, _ = self._bottom(x, training)
        return self._top(z1_mean, training)

    def decoder_output(self, z, labels=None, training=False):
        z1, _ = self._prior1(tf.cast(z, tf.float32), training)
        return tf.cast(self.decoder(z1, training=training), tf.float32)

    def call(self, inputs, training=False):
        """Reconstructions through the mean of ``q(z1 | x)`` (not the top layer)."""
        x, _ = self.unpack(inputs)
        m1, _ = self._bottom(x, training)
        return self.mean_image(tf.cast(self.decoder(m1, training=training), tf.float32))

    def vae2_terms(self, x, eps, training=False):
        """Per-sample terms for given standard-normal noise ``eps`` ``[b, k, latent_dim1 + latent_dim]``.

        ``z1 ~ q(z1|x)``, ``z2 ~ q(z2|z1)``; the importance weight is
        ``log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)``.

        Returns:
            dict: ``log_w`` and ``log_px_z`` ``[b, k]``; ``kl`` ``[b, k]``
            (``log q(z1|x) - log p(z1|z2)`` plus the analytic KL of ``q(z2|z1)``
            from N(0, I)); ``z_mean``, ``z_log_var`` ``[b, latent_dim]``
            (``q(z2|z1)`` at the mean of ``q(z1|x)``); ``raw`` (decoder output
            of the first sample) and ``recon`` (decoder means at the mean of
            ``q(z1|x)``).
        """
        d1, d2 = self.config.latent_dim1, self.config.latent_dim
        b, k = tf.shape(eps)[0], tf.shape(eps)[1]
        x = tf.cast(x, tf.float32)
        m1, lv1 = self._bottom(x, training)
        z1 = m1[:, None, :] + tf.exp(0.5 * lv1)[:, None, :] * eps[..., :d1]
        flat1 = tf.reshape(z1, [-1, d1])
        m2, lv2 = self._top(flat1, training)
        z2 = m2 + tf.exp(0.5 * lv2) * tf.reshape(eps[..., d1:], [-1, d2])
        pm1, plv1 = self._prior1(z2, training)
        raw = tf.cast(self.decoder(flat1, training=training), tf.float32)
        log_px_z = tf.reshape(self.log_likelihood(tf.repeat(x, k, axis=0), raw), [b, k])
        log_q1 = densities.log_normal(z1, m1[:, None, :], lv1[:, None, :])
        log_p1 = tf.reshape(densities.log_normal(flat1, pm1, plv1), [b, k])
        log_q2 = tf.reshape(densities.log_normal(z2, m2, lv2), [b, k])
        log_p2 = tf.reshape(densities.log_standard_normal(z2), [b, k])
        kl = log_q1 - log_p1 + tf.reshape(densities.kl_standard_normal(m2, lv2), [b, k])
        top_mean, top_log_var = self._top(m1, training)
        first = tf.reshape(raw, tf.concat([[b, k], tf.shape(raw)[1:]], 0))[:, 0]
        return {"log_w": log_px_z + log_p1 + log_p2 - log_q1 - log_q2, "log_px_z": log_px_z, "kl": kl,
                "z_mean": top_mean, "z_log_var": top_log_var, "raw": first,
                "recon": self.mean_image(tf.cast(self.decoder(m1, training=training), tf.float32))}

    def sample_terms(self, x, labels, eps, training=False):
        return self.vae2_terms(x, eps, training)

    def log_weights(self, x, labels, eps, k):
        t = self.vae2_terms(x, eps)
        # no closed form for z1's KL: the k-sample mean of log q - log p
        return {**t, "kl": -tf.reduce_mean(t["log_w"] - t["log_px_z"], axis=1)}

