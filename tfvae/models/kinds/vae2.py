"""``--model vae2``: two stochastic layers (Burda et al., 2016): q(z1|x) q(z2|z1), p(z2) p(z1|z2) p(x|z1).

``latent_dim`` is the top layer z2, the one with the prior (``--prior``, N(0, I) by default) that
sampling and the exported decoder take; ``latent_dim1`` the bottom one.
Decoding a top z goes through the mean of ``p(z1 | z2)``.
"""

from tfvae.errors import TfvaeError
from tfvae.models.kinds.base import Field, register
from tfvae.models.kinds.vae import VAEKind

# Bound of |log-variance| of p(z1 | z2), softly (bound * tanh(raw / bound)).
PRIOR_LOG_VAR_BOUND = 8.0


@register
class VAE2Kind(VAEKind):
    """Two stochastic layers; ``latent_dim`` is the top one."""

    name = "vae2"
    help = "two stochastic layers (Burda et al. 2016); --latent_dim is the top one"
    conv = False
    analytic_kl = False
    inference_networks = ("encoder", "encoder2")
    fields = (
        Field("latent_dim1", 0, "size of the bottom stochastic layer (default 2 x latent_dim)"),
        Field("hidden2", (), "widths between the two stochastic layers (default half of --hidden)", type="widths"),
    )

    def check(self, cfg):
        super().check(cfg)
        if cfg.latent_dim1 < 0 or (cfg.hidden2 and min(cfg.hidden2) < 1):
            raise TfvaeError(f"--latent_dim1 must be >= 1 and --hidden2 positive widths, got "
                             f"{cfg.latent_dim1} and {cfg.hidden2}")
        cfg.options["latent_dim1"] = cfg.latent_dim1 or 2 * cfg.latent_dim
        cfg.options["hidden2"] = cfg.hidden2 or tuple(max(1, w // 2) for w in cfg.hidden)

    def noise_width(self, cfg):
        return cfg.latent_dim1 + cfg.latent_dim

    def build_networks(self, model, cfg, out_channels):
        # encoder: x -> z1 stats; encoder2: z1 -> z2 stats; prior1: z2 -> p(z1|z2) stats; decoder: z1 -> x.
        from tfvae.models import networks

        d1, d2 = cfg.latent_dim1, cfg.latent_dim
        model.encoder = networks.build_encoder(cfg, 2 * d1)
        model.encoder2 = networks.build_dense_net(cfg, "encoder2", d1, cfg.hidden2, 2 * d2)
        model.prior1 = networks.build_dense_net(cfg, "prior1", d2, tuple(reversed(cfg.hidden2)), 2 * d1)
        model.decoder = networks.build_decoder(cfg, out_channels, latent=d1)

    def _bottom(self, model, x, training):
        """Mean and log-variance of ``q(z1 | x)``."""
        from tfvae._tf import tf

        return tf.split(tf.cast(model.encoder(tf.cast(x, tf.float32), training=training), tf.float32), 2, axis=-1)

    def _top(self, model, z1, training):
        """Mean and log-variance of ``q(z2 | z1)``."""
        from tfvae._tf import tf

        return tf.split(tf.cast(model.encoder2(z1, training=training), tf.float32), 2, axis=-1)

    def _prior1(self, model, z2, training=False):
        """Mean and (softly bounded) log-variance of ``p(z1 | z2)``."""
        from tfvae._tf import tf

        mean, raw = tf.split(tf.cast(model.prior1(z2, training=training), tf.float32), 2, axis=-1)
        return mean, PRIOR_LOG_VAR_BOUND * tf.tanh(raw / PRIOR_LOG_VAR_BOUND)

    def _decode_z1(self, model, z1, training=False):
        from tfvae._tf import tf

        return tf.cast(model.decoder(z1, training=training), tf.float32)

    def encode(self, model, x, labels=None, training=False):
        """``q(z2 | z1)`` at the mean of ``q(z1 | x)``."""
        z1_mean, _ = self._bottom(model, x, training)
        return self._top(model, z1_mean, training)

    def decoder_output(self, model, z, labels=None, training=False):
        from tfvae._tf import tf

        z1, _ = self._prior1(model, tf.cast(z, tf.float32), training)
        return self._decode_z1(model, z1, training)

    def reconstruct(self, model, x, labels=None, training=False):
        """Reconstructions through the mean of ``q(z1 | x)`` (not the top layer)."""
        m1, _ = self._bottom(model, x, training)
        return model.mean_image(self._decode_z1(model, m1, training))

    def terms(self, model, x, labels, eps, training=False, fused=False):
        """Per-sample terms for noise ``eps`` ``[b, k, latent_dim1 + latent_dim]``.

        ``z1 ~ q(z1|x)``, ``z2 ~ q(z2|z1)``; the importance weight is
        ``log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)``.
        ``kl`` ``[b, k]`` is ``log q(z1|x) - log p(z1|z2)`` plus the analytic KL
        of ``q(z2|z1)`` from N(0, I) (for a learned prior, ``log q(z2|z1) - log p(z2)``): z1's KL has no
        closed form. ``z_mean``
        and ``z_log_var`` are ``q(z2|z1)`` at the mean of ``q(z1|x)``.
        """
        from tfvae._tf import tf
        from tfvae.models import densities

        d1, d2 = model.config.latent_dim1, model.config.latent_dim
        b, k = tf.shape(eps)[0], tf.shape(eps)[1]
        x = tf.cast(x, tf.float32)
        m1, lv1 = self._bottom(model, x, training)
        z1 = densities.reparameterize(m1, lv1, eps[..., :d1])
        flat1 = tf.reshape(z1, [-1, d1])
        m2, lv2 = self._top(model, flat1, training)
        z2 = m2 + tf.exp(0.5 * lv2) * tf.reshape(eps[..., d1:], [-1, d2])
        log_q2 = densities.log_normal(z2, m2, lv2)
        if model.posterior.flow:  # on the top layer: z2 = flow(z2_0), log q(z2 | z1) less the log-determinants
            z2, log_det = model.posterior_transform(z2, tf.concat([m2, lv2], axis=-1))
            log_q2 -= log_det
        log_q2 = tf.reshape(log_q2, [b, k])
        pm1, plv1 = self._prior1(model, z2, training)
        raw = self._decode_z1(model, flat1, training)
        log_px_z = tf.reshape(model.log_likelihood(tf.repeat(x, k, axis=0), raw), [b, k])
        log_q1 = densities.log_normal(z1, m1[:, None, :], lv1[:, None, :])
        log_p1 = tf.reshape(densities.log_normal(flat1, pm1, plv1), [b, k])
        log_p2 = tf.reshape(model.prior_log_prob(z2), [b, k])
        kl2 = densities.kl_standard_normal(m2, lv2) if model.closed_form_kl else log_q2 - log_p2
        kl = log_q1 - log_p1 + tf.reshape(kl2, [b, k])
        top_mean, top_log_var = self._top(model, m1, training)
        first = tf.reshape(raw, tf.concat([[b, k], tf.shape(raw)[1:]], 0))[:, 0]
        return {"log_w": log_px_z + log_p1 + log_p2 - log_q1 - log_q2, "log_px_z": log_px_z, "kl": kl,
                "z_mean": top_mean, "z_log_var": top_log_var, "raw": first, "m1": m1}

    def evaluation_terms(self, model, x, labels, eps, k):
        from tfvae._tf import tf

        t = self.terms(model, x, labels, eps)
        recon = model.mean_image(self._decode_z1(model, t.pop("m1")))
        # no closed form for z1's KL: the k-sample mean of log q - log p
        return {**t, "kl": -tf.reduce_mean(t["log_w"] - t["log_px_z"], axis=1), "recon": recon}
