"""The plain auto-encoder baseline: a deterministic code, reconstruction loss only, no prior to sample."""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae.errors import TfvaeError
from tfvae.models import networks, registry
from tfvae.models.vae import VAE


@registry.register("ae")
class AutoEncoder(VAE):
    """``z = encoder(x)``; loss ``-log p(x | z)`` (a KL term of 0). ``encode`` returns the code and zeros."""

    can_sample = False
    has_likelihood_bound = False

    def build_networks(self, cfg, out_channels):
        self.encoder = networks.build_encoder(cfg, cfg.latent_dim)
        self.decoder = networks.build_decoder(cfg, out_channels)

    @property
    def noise_shape(self):
        return None  # deterministic: no noise to feed

    def encode(self, x, labels=None, training=False):
        code = tf.cast(self.encoder(self.encoder_input(tf.cast(x, tf.float32), labels), training=training),
                       tf.float32)
        return code, tf.zeros_like(code)

    def sample(self, n, temperature=1.0, seed=None, labels=None):
        raise TfvaeError("a plain auto-encoder (--model ae) has no prior to sample from; "
                         "use eval --save_images for reconstructions, or train a vae")

    def reparameterize(self, z_mean, z_log_var, rows=None):
        return z_mean

    def sample_terms(self, x, labels, eps, training=False):
        code, _ = self.encode(x, labels, training=training)
        raw = self.decoder_output(code, labels, training=training)
        return {"log_px_z": self.log_likelihood(x, raw)[:, None], "kl": tf.zeros_like(code[:, 0]), "raw": raw}

    def log_weights(self, x, labels, eps, k):
        code, zeros = self.encode(x, labels)
        raw = self.decoder_output(code, labels)
        return {"log_w": None, "log_px_z": self.log_likelihood(x, raw)[:, None], "kl": tf.zeros_like(code[:, 0]),
                "z_mean": code, "z_log_var": zeros, "recon": self.mean_image(raw)}
