"""The VAE (Kingma & Welling, 2014): encoder q(z|x), N(0, I) prior, decoder p(x|z); the base of every kind.

``VAE`` is a subclassed ``keras.Model`` with custom ``train_step`` and
``test_step`` (``tfvae.engine.steps.Trainer``), so ``fit(...,
validation_data=...)``, ``evaluate`` and ``predict`` work. This module holds
its maths only: ``encode``, ``decode``, ``sample``, the per-sample terms of a
batch for given noise (``sample_terms``), the objective's per-example losses
(``compute_losses``) and the importance weights that evaluation uses
(``log_weights``). The other kinds override what differs:
``autoencoder.AutoEncoder``, ``conditional.ConditionalVAE``,
``hierarchical.HierarchicalVAE``.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae.models import densities
from tfvae.config import VAEConfig
from tfvae.engine.steps import Trainer
from tfvae.models import likelihoods, networks, objectives, registry


@tf.function(jit_compile=True)
def sample_and_log_ratio(z_mean, z_log_var, eps):
    """``z = mean + exp(log_var / 2) * eps`` and ``log p(z) - log q(z | x)`` in one fused XLA pass.

    With ``z`` drawn through ``eps``, ``(z - mean)^2 / var = eps^2``, so
    ``log p(z) - log q(z | x) = 0.5 * sum(eps^2 + log_var - z^2)`` (the
    ``log 2 pi`` terms cancel): no division and no broadcast of the ``[b, d]``
    posterior over the ``[b, k, d]`` samples in TF's slow broadcasting kernels.

    Returns:
        ``z [b, k, d]``, ``log_ratio [b, k]``.
    """
    z = z_mean[:, None, :] + tf.exp(0.5 * z_log_var)[:, None, :] * eps
    return z, 0.5 * tf.reduce_sum(tf.square(eps) + z_log_var[:, None, :] - tf.square(z), axis=-1)


def rmse(mean, x):
    """Per-example root mean squared error of decoder means against the images."""
    err = tf.reshape(mean - tf.cast(x, mean.dtype), [tf.shape(x)[0], -1])
    return tf.sqrt(tf.reduce_mean(tf.square(err), axis=1))


@registry.register("vae")
class VAE(Trainer, keras.Model):
    """VAE with a N(0, I) prior and a Bernoulli, Gaussian or L2 decoder.

    The loss per example is ``-log p(x | z) + beta * KL(q(z | x) || p(z))`` in
    nats (or the importance-weighted bound), averaged over the batch. Data are
    images, or ``(images, labels)`` pairs.

    ``VAE(model="cvae", ...)`` builds the class registered for that kind
    (``registry.KINDS``), so one constructor serves every ``VAEConfig``.

    Args:
        input_shape: image shape ``(H, W, C)``; inputs are floats in [0, 1].
        latent_dim: size of z.
        hidden: dense widths of the encoder (the decoder mirrors them).
        beta: KL weight.
        **kwargs: the other ``VAEConfig`` fields and ``keras.Model`` arguments.
    """

    def __new__(cls, *args, **kwargs):
        if cls is VAE:
            cls = registry.get(kwargs.get("model", "vae"))
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, input_shape=(28, 28, 1), latent_dim=128, hidden=(512, 256), beta=1.0, **kwargs):
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in VAEConfig.__dataclass_fields__}
        super().__init__(**kwargs)
        self.config = VAEConfig(input_shape=input_shape, latent_dim=latent_dim, hidden=hidden, beta=beta, **fields)
        self.likelihood = likelihoods.LIKELIHOODS[self.config.likelihood]
        self.objective = objectives.for_config(self.config)
        self.build_networks(self.config, self.likelihood.out_channels(self.config.input_shape[-1]))
        # A variable, so KL warm-up can change it without retracing.
        self.beta = keras.Variable(self.config.beta, trainable=False, name="beta", dtype="float32")
        self.init_engine()

    def build_networks(self, cfg, out_channels):
        self.encoder = networks.build_encoder(cfg, 2 * cfg.latent_dim)
        self.decoder = networks.build_decoder(cfg, out_channels)

    # ------------------------------------------------------------ shape
    latent_dim = property(lambda self: self.config.latent_dim)
    num_classes = property(lambda self: self.config.num_classes)
    example_shape = property(lambda self: self.config.input_shape)

    @property
    def samples_per_example(self):
        """Posterior samples drawn per example in training: ``k`` for ``objective="iwae"``, else 1."""
        return self.config.samples_per_example

    @property
    def noise_shape(self):
        """Standard-normal numbers per example of a training step: ``(samples, width)``."""
        return self.samples_per_example, self.config.latent_dim1 + self.config.latent_dim

    can_sample = True  # has a prior to sample from
    has_likelihood_bound = True  # evaluation reports an ELBO and an importance-weighted NLL

    # ---------------------------------------------------- encode/decode
    def encoder_input(self, x, labels):
        return x

    def decoder_input(self, z, labels):
        return z

    def encode(self, x, labels=None, training=False):
        """Returns ``(z_mean, z_log_var)``, each ``[batch, latent_dim]``."""
        x = tf.cast(x, tf.float32)
        # float32 out of the networks whatever the compute dtype (bf16 mixed precision).
        stats = tf.cast(self.encoder(self.encoder_input(x, labels), training=training), tf.float32)
        z_mean, z_log_var = tf.split(stats, 2, axis=-1)
        return z_mean, z_log_var

    def decoder_output(self, z, labels=None, training=False):
        """Raw decoder output (logits, or mean and log-variance parameters), ``[batch, H, W, C']``."""
        z = tf.cast(z, tf.float32)
        return tf.cast(self.decoder(self.decoder_input(z, labels), training=training), tf.float32)

    def decode_logits(self, z, labels=None):
        """Decoder logits of a Bernoulli model (the raw output for the others)."""
        return self.decoder_output(z, labels)

    def mean_image(self, raw):
        """Decoder means in [0, 1] from the raw output."""
        return self.likelihood.mean(raw, self.config.input_shape[-1])

    def log_likelihood(self, x, raw):
        """``log p(x | z)`` per example (nats; for ``mse``, minus the squared error)."""
        return self.likelihood.log_prob(x, raw, self.config.input_shape[-1])

    def decode(self, z, labels=None):
        """Decoder means (pixel probabilities for Bernoulli) in [0, 1], ``[batch, H, W, C]``."""
        return self.mean_image(self.decoder_output(z, labels))

    def call(self, inputs, training=False):
        """Reconstructions of ``inputs`` (images, or ``(images, labels)``), decoded from ``z_mean``."""
        x, y = self.unpack(inputs)
        z_mean, _ = self.encode(x, y, training=training)
        return self.decode(z_mean, y)

    def reparameterize(self, z_mean, z_log_var, rows=None):
        """Draws ``z = mean + exp(log_var / 2) * eps`` (differentiable)."""
        eps = self.draw_noise(tf.shape(z_mean)[0], rows)[:, 0, : self.latent_dim]
        return z_mean + tf.exp(0.5 * z_log_var) * eps

    def sample(self, n, temperature=1.0, seed=None, labels=None):
        """Decodes ``n`` draws of ``z ~ N(0, temperature^2 I)``.

        Args:
            n: number of samples.
            temperature: prior standard deviation scale (>= 0).
            seed: integer for repeatable samples.
            labels: class of each sample (a cvae needs them; one int is repeated).

        Returns:
            Tensor ``[n, H, W, C]`` of decoder means.
        """
        shape = [int(n), self.latent_dim]
        z = tf.random.stateless_normal(shape, seed=[int(seed), 7]) if seed is not None else tf.random.normal(shape)
        if labels is not None:
            labels = tf.broadcast_to(tf.reshape(tf.constant(labels, tf.int32), [-1]), [int(n)])
        return self.decode(float(temperature) * z, labels)

    # ------------------------------------------------------------ terms
    def sample_terms(self, x, labels, eps, training=False):
        """Per-sample terms of a batch for given standard-normal noise ``eps`` ``[b, k, latent_dim]``.

        Returns:
            dict: ``log_px_z`` ``[b, k]``; ``kl`` ``[b]`` (analytic); ``log_w``
            ``[b, k]`` (``log p(x, z) - log q(z | x)``) when the objective needs
            it; ``raw`` (the decoder output of each example's first sample).
        """
        k = self.samples_per_example
        z_mean, z_log_var = self.encode(x, labels, training=training)
        b = tf.shape(z_mean)[0]
        z = z_mean[:, None, :] + tf.exp(0.5 * z_log_var)[:, None, :] * eps
        rep_labels = labels if labels is None or k == 1 else tf.repeat(labels, k)
        raw = self.decoder_output(tf.reshape(z, [-1, self.latent_dim]), rep_labels, training=training)
        log_px_z = tf.reshape(self.log_likelihood(x if k == 1 else tf.repeat(x, k, axis=0), raw), [b, k])
        terms = {"log_px_z": log_px_z, "kl": densities.kl_standard_normal(z_mean, z_log_var),
                 "raw": raw if k == 1 else tf.reshape(raw, tf.concat([[b, k], tf.shape(raw)[1:]], 0))[:, 0]}
        if self.objective.needs_log_w:
            terms["log_w"] = log_px_z + densities.log_standard_normal(z) - densities.log_normal(
                z, z_mean[:, None, :], z_log_var[:, None, :])
        return terms

    def compute_losses(self, x, labels=None, training=False, rows=None, eps=None):
        """Per-example ``[batch]`` terms: the objective's ``loss``, ``reconstruction_loss``, ``kl_loss``, and ``rmse``.

        ``eps`` is the step's noise (``draw_noise(batch, rows)`` if None; ``rows``
        places a replica's examples in the global batch under a strategy).
        """
        if eps is None:
            eps = self.draw_noise(tf.shape(x)[0], rows)
        terms = self.sample_terms(x, labels, eps, training)
        out = self.objective(terms, self.beta, self.samples_per_example)
        out["rmse"] = rmse(self.mean_image(terms["raw"]), x)
        return out

    def log_weights(self, x, labels, eps, k):
        """What evaluation needs of ``k`` importance samples per example, for noise ``eps`` ``[b, k, width]``.

        Returns:
            dict: ``log_w`` ``[b, k]`` (``log p(x, z_k) - log q(z_k | x)``, or
            None without a likelihood bound), ``log_px_z`` ``[b, k]``, ``kl``
            ``[b]``, ``z_mean`` and ``z_log_var`` ``[b, latent_dim]``, ``recon``
            (decoder means at ``z_mean``).
        """
        z_mean, z_log_var = self.encode(x, labels)
        z, log_ratio = sample_and_log_ratio(z_mean, z_log_var, eps)
        rep_labels = None if labels is None else tf.repeat(labels, k)
        raw = self.decoder_output(tf.reshape(z, [-1, self.latent_dim]), rep_labels)
        log_px_z = self.likelihood.log_prob_samples(x, raw, k)
        return {"log_w": log_px_z + log_ratio, "log_px_z": log_px_z,
                "kl": densities.kl_standard_normal(z_mean, z_log_var), "z_mean": z_mean, "z_log_var": z_log_var,
                "recon": self.decode(z_mean, labels)}

    # ---------------------------------------------------- serialization
    def get_config(self):
        base = super().get_config()
        base.update(self.config.to_dict())
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for k in ("trainable", "dtype"):
            config.pop(k, None)
        return cls(**config)

    def dummy_inputs(self):
        return tf.zeros((1,) + self.config.input_shape)

    def build_all(self):
        """Creates every variable (encoder, decoder) without data."""
        self(self.dummy_inputs())
        return self

