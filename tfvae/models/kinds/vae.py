"""``--model vae``: the VAE (Kingma & Welling, 2014), encoder q(z|x), N(0, I) prior, decoder p(x|z).

``VAEKind`` is also the base of the other built-in kinds: each overrides what
differs. Its methods take the Keras model (``tfvae.models.VAE``), whose
networks they build and call; TensorFlow is imported when they first run.
"""

from tfvae.models.kinds.base import Kind, register


@register
class VAEKind(Kind):
    """Gaussian posterior, standard-normal prior, one stochastic layer."""

    name = "vae"
    help = "the VAE: a Gaussian posterior, a N(0, I) prior, one stochastic layer"

    # ---------------------------------------------------------- networks
    def build_networks(self, model, cfg, out_channels):
        """Creates the model's networks as its attributes (their order is the checkpoints' variable order)."""
        from tfvae.models import networks

        model.encoder = networks.build_encoder(cfg, 2 * cfg.latent_dim)
        model.decoder = networks.build_decoder(cfg, out_channels)

    def encoder_input(self, model, x, labels):
        return x

    def decoder_input(self, model, z, labels):
        return z

    def dummy_inputs(self, model):
        from tfvae._tf import tf

        return tf.zeros((1,) + model.config.input_shape)

    # ------------------------------------------------------ encode/decode
    def encode(self, model, x, labels=None, training=False):
        """``(z_mean, z_log_var)``, each ``[batch, latent_dim]``, float32 whatever the compute dtype."""
        from tfvae._tf import tf

        x = tf.cast(x, tf.float32)
        stats = tf.cast(model.encoder(self.encoder_input(model, x, labels), training=training), tf.float32)
        z_mean, z_log_var = tf.split(stats, 2, axis=-1)
        return z_mean, z_log_var

    def decoder_output(self, model, z, labels=None, training=False):
        """Raw decoder output (logits, or mean and log-variance parameters), ``[batch, H, W, C']``."""
        from tfvae._tf import tf

        z = tf.cast(z, tf.float32)
        return tf.cast(model.decoder(self.decoder_input(model, z, labels), training=training), tf.float32)

    def reconstruct(self, model, x, labels=None, training=False):
        """Decoder means of ``x``'s reconstruction (from ``z_mean``): what ``model(x)`` returns."""
        z_mean, _ = self.encode(model, x, labels, training=training)
        return model.mean_image(self.decoder_output(model, z_mean, labels, training=training))

    def sample(self, model, z, labels=None):
        """Decoder means of prior draws ``z`` (already scaled by the temperature)."""
        return model.mean_image(self.decoder_output(model, z, labels))

    # ------------------------------------------------------------ terms
    def terms(self, model, x, labels, eps, training=False, fused=False):
        """Per-sample terms for standard-normal noise ``eps`` ``[b, k, noise_width]``.

        Training (``compute_losses``) and evaluation (``log_weights``) both
        use this one definition.

        Args:
            fused: the Bernoulli likelihood of the ``k`` samples in one fused
                XLA pass (``Likelihood.log_prob_samples``; evaluation).

        Returns:
            dict: ``log_px_z`` ``[b, k]``; ``kl`` ``[b]`` (closed form), or ``[b, k]``
            (``log q(z|x) - log p(z)`` of each draw, for a prior without one);
            ``log_w`` ``[b, k]`` (``log p(x, z) - log q(z | x)``; None when
            neither ``fused`` nor the objective needs it); ``z_mean``,
            ``z_log_var`` ``[b, latent_dim]``; ``raw`` (decoder output of each
            example's first sample).
        """
        from tfvae._tf import tf
        from tfvae.models import densities

        k = eps.shape[1] if eps.shape[1] is not None else tf.shape(eps)[1]
        z_mean, z_log_var = self.encode(model, x, labels, training=training)
        b = tf.shape(z_mean)[0]
        if not model.closed_form_kl:  # a learned prior or a flow: the KL is a Monte-Carlo term of the draws
            d = model.latent_dim
            z0 = densities.reparameterize(z_mean, z_log_var, eps)
            context = tf.concat([z_mean, z_log_var], axis=-1)
            z, log_det = model.posterior_transform(tf.reshape(z0, [-1, d]), tf.repeat(context, k, axis=0))
            log_q = densities.log_normal_from_noise(z_log_var, eps) - tf.reshape(log_det, [b, k])
            log_ratio = tf.reshape(model.prior_log_prob(z), [b, k]) - log_q
            z, kl = tf.reshape(z, [b, k, d]), -log_ratio
        else:
            kl = densities.kl_standard_normal(z_mean, z_log_var)
            if fused:
                z, log_ratio = densities.sample_and_log_ratio(z_mean, z_log_var, eps)
            elif model.objective.needs_log_w:
                z, log_ratio = densities.draw_and_log_ratio(z_mean, z_log_var, eps)
            else:  # the ELBO needs no log-ratio: just the draw
                z, log_ratio = densities.reparameterize(z_mean, z_log_var, eps), None
        rep_labels = labels if labels is None or k == 1 else tf.repeat(labels, k)
        raw = self.decoder_output(model, tf.reshape(z, [-1, model.latent_dim]), rep_labels, training=training)
        log_px_z = model.log_likelihood_samples(x, raw, k, fused)
        first = raw if k == 1 else tf.reshape(raw, tf.concat([[b, k], tf.shape(raw)[1:]], 0))[:, 0]
        return {"log_px_z": log_px_z, "kl": kl, "log_w": None if log_ratio is None else log_px_z + log_ratio,
                "z_mean": z_mean, "z_log_var": z_log_var, "raw": first}

    def evaluation_terms(self, model, x, labels, eps, k):
        """``terms`` for ``k`` importance samples, plus ``recon`` (decoder means at ``z_mean``)."""
        from tfvae._tf import tf

        t = self.terms(model, x, labels, eps, fused=True)
        kl = t["kl"] if t["kl"].shape.rank == 1 else tf.reduce_mean(t["kl"], axis=1)  # Monte Carlo: over the k
        return {**t, "kl": kl, "recon": self.sample(model, t["z_mean"], labels)}
