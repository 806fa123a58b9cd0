"""The Keras model of every kind: ``VAE``, composed of its kind, prior, posterior, objective, architecture and
likelihood.

``VAE`` is a subclassed ``keras.Model`` with custom ``train_step`` and
``test_step`` (``tfvae.engine.steps.Trainer``), so ``fit(...,
validation_data=...)``, ``evaluate`` and ``predict`` work. One class serves
every ``--model``: the kind (``tfvae.models.kinds``) builds the networks and
defines ``encode``, ``decode`` and the per-sample terms; the prior
(``priors``), the posterior's flow (``posteriors``), the objective
(``objectives``), the architecture (``networks``) and the likelihood
(``likelihoods``) are the other axes (``composition.Composition`` reads the
prior, the flow and the hooks). This module holds no maths of its own
beyond putting them together: ``compute_losses`` (training) and
``log_weights`` (evaluation) read the same ``Kind.terms``.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae.models.config import VAEConfig
from tfvae.engine.steps import Trainer
from tfvae.models.composition import Composition
from tfvae.models import densities, kinds, likelihoods, objectives, posteriors, priors


@keras.saving.register_keras_serializable(package="tfvae")
class VAE(Composition, Trainer, keras.Model):
    """A model of any kind: a VAE with a N(0, I) prior by default; ``VAE(model="cvae", ...)`` for another.

    The loss per example is ``-log p(x | z) + beta * KL(q(z | x) || p(z))`` in
    nats (or the importance-weighted bound), averaged over the batch. Data are
    images, or ``(images, labels)`` pairs.

    Args:
        input_shape: image shape ``(H, W, C)``; inputs are floats in [0, 1].
        latent_dim: size of z.
        hidden: dense widths of the encoder (the decoder mirrors them).
        beta: KL weight.
        **kwargs: the other ``VAEConfig`` fields (the kind's own too) and ``keras.Model`` arguments.
    """

    def __init__(self, input_shape=(28, 28, 1), latent_dim=128, hidden=(512, 256), beta=1.0, **kwargs):
        names = set(VAEConfig.field_names())
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        super().__init__(**kwargs)
        self.config = VAEConfig(input_shape=input_shape, latent_dim=latent_dim, hidden=hidden, beta=beta, **fields)
        self.kind = kinds.get(self.config.model)
        self.likelihood = likelihoods.LIKELIHOODS[self.config.likelihood]
        self.objective = objectives.for_config(self.config)
        self.kind.build_networks(self, self.config, self.likelihood.out_channels(self.config.input_shape[-1]))
        self.prior = priors.get(self.config.prior)
        self.prior.build(self, self.config)  # after the networks: their variables keep their checkpoint order
        self.posterior = posteriors.get(self.config.posterior)
        self.posterior.build(self, self.config)
        # A variable, so KL warm-up can change it without retracing.
        self.beta = keras.Variable(self.config.beta, trainable=False, name="beta", dtype="float32")
        self.init_engine()

    # ------------------------------------------------------------ shape
    latent_dim = property(lambda self: self.config.latent_dim)
    num_classes = property(lambda self: self.config.num_classes)
    example_shape = property(lambda self: self.config.input_shape)
    can_sample = property(lambda self: self.kind.can_sample)
    has_likelihood_bound = property(lambda self: self.kind.has_likelihood_bound)

    @property
    def samples_per_example(self):
        """Posterior samples drawn per example in training: ``k`` for ``objective="iwae"``, else 1."""
        return self.config.samples_per_example

    @property
    def noise_shape(self):
        """Standard-normal numbers per example of a training step: ``(samples, width)``, or None."""
        width = self.kind.noise_width(self.config)
        return None if width is None else (self.samples_per_example, width)

    # ---------------------------------------------------- encode/decode
    def encode(self, x, labels=None, training=False):
        """Returns ``(z_mean, z_log_var)``, each ``[batch, latent_dim]``."""
        return self.kind.encode(self, x, labels, training=training)

    def decoder_output(self, z, labels=None, training=False):
        """Raw decoder output (logits, or mean and log-variance parameters), ``[batch, H, W, C']``."""
        return self.kind.decoder_output(self, z, labels, training=training)

    def decode_logits(self, z, labels=None):
        """Decoder logits of a Bernoulli model (the raw output for the others)."""
        return self.decoder_output(z, labels)

    def mean_image(self, raw):
        """Decoder means in [0, 1] from the raw output."""
        return self.likelihood.mean(raw, self.config.input_shape[-1])

    def log_likelihood(self, x, raw):
        """``log p(x | z)`` per example (nats; for ``mse``, minus the squared error)."""
        return self.likelihood.log_prob(x, raw, self.config.input_shape[-1])

    def log_likelihood_samples(self, x, raw, k, fused=False):
        """``log p(x | z_i)`` ``[b, k]`` of ``k`` samples per example (``raw`` ``[b * k, ...]``).

        ``fused``: the likelihood's one-pass form for many samples (evaluation).
        """
        if fused:
            return self.likelihood.log_prob_samples(x, raw, k)
        b = tf.shape(x)[0]
        return tf.reshape(self.log_likelihood(x if k == 1 else tf.repeat(x, k, axis=0), raw), [b, k])

    def decode(self, z, labels=None):
        """Decoder means (pixel probabilities for Bernoulli) in [0, 1], ``[batch, H, W, C]``."""
        return self.mean_image(self.decoder_output(z, labels))

    def call(self, inputs, training=False):
        """Reconstructions of ``inputs`` (images, or ``(images, labels)``), decoded from ``z_mean``."""
        x, y = self.unpack(inputs)
        return self.kind.reconstruct(self, x, y, training=training)

    def sample(self, n, temperature=1.0, seed=None, labels=None):
        """Decodes ``n`` prior draws, each component's spread scaled by ``temperature``.

        Args:
            n: number of samples.
            temperature: scale of the prior's noise (>= 0; for N(0, I), its standard deviation).
            seed: integer for repeatable samples.
            labels: class of each sample (a cvae needs them; one int is repeated).

        Returns:
            Tensor ``[n, H, W, C]`` of decoder means.
        """
        shape = [int(n), self.latent_dim]
        if seed is not None:
            eps, u = tf.random.stateless_normal(shape, seed=[int(seed), 7]), tf.random.stateless_uniform(
                shape[:1], seed=[int(seed), 8])
        else:
            eps, u = tf.random.normal(shape), tf.random.uniform(shape[:1])
        if labels is not None:
            labels = tf.broadcast_to(tf.reshape(tf.constant(labels, tf.int32), [-1]), [int(n)])
        return self.kind.sample(self, self.prior_sample(float(temperature) * eps, u), labels)

    # ------------------------------------------------------------ terms
    def reparameterize(self, z_mean, z_log_var, rows=None):
        """Draws ``z = mean + exp(log_var / 2) * eps`` (differentiable), one sample per example."""
        if self.noise_shape is None:
            return z_mean
        eps = self.draw_noise(tf.shape(z_mean)[0], rows)[:, :1, : self.latent_dim]
        return densities.reparameterize(z_mean, z_log_var, eps)[:, 0]

    def compute_losses(self, x, labels=None, training=False, rows=None, eps=None):
        """Per-example ``[batch]`` terms: the objective's ``loss``, ``reconstruction_loss``, ``kl_loss``, and ``rmse``.

        ``eps`` is the step's noise (``draw_noise(batch, rows)`` if None; ``rows``
        places a replica's examples in the global batch under a strategy).
        """
        if eps is None:
            eps = self.draw_noise(tf.shape(x)[0], rows)
        terms = self.kind.terms(self, x, labels, eps, training)
        out = self.objective(terms, self.beta, self.config)
        out["rmse"] = densities.rmse(self.mean_image(terms["raw"]), x)
        return out

    def log_weights(self, x, labels, eps, k):
        """What evaluation needs of ``k`` importance samples per example, for noise ``eps`` ``[b, k, width]``.

        Returns:
            dict: ``log_w`` ``[b, k]`` (``log p(x, z_k) - log q(z_k | x)``, or
            None without a likelihood bound), ``log_px_z`` ``[b, k]``, ``kl``
            ``[b]``, ``z_mean`` and ``z_log_var`` ``[b, latent_dim]``, ``recon``
            (decoder means at ``z_mean``).
        """
        return self.kind.evaluation_terms(self, x, labels, eps, k)

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
        return self.kind.dummy_inputs(self)

    def build_all(self):
        """Creates every variable (the kind's networks) without data."""
        self(self.dummy_inputs())
        return self
