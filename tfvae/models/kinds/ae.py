"""``--model ae``: the plain auto-encoder baseline: a deterministic code, reconstruction loss only, no prior."""

from tfvae.errors import TfvaeError
from tfvae.models.kinds.base import register
from tfvae.models.kinds.vae import VAEKind


@register
class AEKind(VAEKind):
    """``z = encoder(x)``; loss ``-log p(x | z)`` (a KL term of 0). ``encode`` returns the code and zeros."""

    name = "ae"
    help = "plain auto-encoder baseline (reconstruction loss only; cannot sample)"
    stochastic = False
    can_sample = False
    has_likelihood_bound = False

    def noise_width(self, cfg):
        return None  # deterministic: no noise to feed

    def build_networks(self, model, cfg, out_channels):
        from tfvae.models import networks

        model.encoder = networks.build_encoder(cfg, cfg.latent_dim)
        model.decoder = networks.build_decoder(cfg, out_channels)

    def encode(self, model, x, labels=None, training=False):
        from tfvae._tf import tf

        code = tf.cast(model.encoder(self.encoder_input(model, tf.cast(x, tf.float32), labels), training=training),
                       tf.float32)
        return code, tf.zeros_like(code)

    def sample(self, model, z, labels=None):
        raise TfvaeError("a plain auto-encoder (--model ae) has no prior to sample from; "
                         "use eval --save_images for reconstructions, or train a vae")

    def terms(self, model, x, labels, eps, training=False, fused=False):
        from tfvae._tf import tf

        code, zeros = self.encode(model, x, labels, training=training)
        raw = self.decoder_output(model, code, labels, training=training)
        return {"log_px_z": model.log_likelihood(x, raw)[:, None], "kl": tf.zeros_like(code[:, 0]), "log_w": None,
                "z_mean": code, "z_log_var": zeros, "raw": raw}

    def evaluation_terms(self, model, x, labels, eps, k):
        t = self.terms(model, x, labels, eps)
        return {**t, "recon": model.mean_image(t["raw"])}
